"""The network, as every stage meets it.

    client.py        the shared aiohttp client: whole-request timeouts, size caps, the address guard
    robots.py        robots.txt for article pages (RFC 9309), cached per site
    page_room.py     room for article pages in memory, counted in bytes

A foundation: may import only the modules at the package root (errors, logs, metrics, address_policy).
"""
