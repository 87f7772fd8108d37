"""The network, as every stage meets it.

    client.py        the shared aiohttp client (HttpClient): whole-request timeouts, redirects, which
                     session a request goes through; re-exports the names below that callers import
    response.py      a finished Response, Retry-After, the body read with a size cap
    address_guard.py the guarded session's resolver and socket factory (the connect-time address guard)
    host_limiter.py  politeness per host (HostLimiter): concurrency, delay, Retry-After pauses
    robots.py        robots.txt for article pages (RFC 9309), cached per site
    page_room.py     room for article pages in memory, counted in bytes

A foundation: may import only the modules at the package root (errors, logs, metrics, address_policy).
"""
