"""The HTTP client every stage shares: aiohttp with whole-request timeouts, size caps and an SSRF guard.

aiohttp was chosen by measurement (issue 2): at 50 concurrent requests httpx spent about 8 ms of CPU per
request, aiohttp about 0.2 ms, and it fits the asyncio stack (APScheduler AsyncIOScheduler, AsyncWebClient).

Two sessions, because trust differs: feed URLs come from the operator's config and are fetched as
configured; article links come from strangers' feeds and go through `guarded` requests, which refuse
every address `is_public_address` (monitor/address_policy.py) refuses, unless fetch.allow_private_addresses.
A guarded request is judged three times, each on what aiohttp itself will do:

1. the URL is parsed once with yarl, the parser aiohttp uses, and that parsed URL is what is requested;
   a host that spells an IP address in any form (`１２７。0。0。1` folds to 127.0.0.1, `0x7f.1` is
   127.0.0.1) is judged as that address before anything is sent;
2. a DNS name is judged by every address it resolves to (GuardedResolver, address_guard.py);
3. every socket the guarded session opens is judged on the address it is about to connect to
   (`guarded_socket_factory`, address_guard.py), literal or resolved, so a spelling nobody foresaw still
   meets the policy.

Every redirect hop is a new request judged the same way. A configured feed's own URL is the operator's
choice and is fetched wherever it points; its redirects are guarded like article links unless that URL
itself points at a non-public address (then the feed lives on the operator's own network).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from yarl import URL

from ..address_policy import AddressPolicy, host_address
from ..address_policy import is_public_address as is_public_address
from ..errors import BlockedAddressError, FetchError
from ..logs import log_event
from .address_guard import GuardedResolver, guarded_socket_factory, recording_refusals
from .host_limiter import RATE_LIMITED_PAUSE_SECONDS, HostLimiter, HostPausedError
from .host_limiter import SWEEP_HOSTS_FROM as SWEEP_HOSTS_FROM
from .response import Reserve, Response, read_capped
from .response import parse_retry_after as parse_retry_after

if TYPE_CHECKING:  # aiohttp's own dependency, which defines what a socket_factory is
    from aiohappyeyeballs import SocketFactoryType

log = logging.getLogger("monitor.http")

# Beyond this many hops a chain of redirects is a loop or an attack, not a news site.
MAX_REDIRECTS = 10
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}


class HttpClient:
    """GET with a total time limit, a size limit, per-host politeness and (for untrusted links) the
    address guard."""

    def __init__(
        self,
        *,
        timeout: float,
        user_agent: str,
        allow_private_addresses: bool = False,
        connections: int = 100,
        address_policy: AddressPolicy = is_public_address,
        host_limiter: HostLimiter | None = None,
        max_redirects: int = MAX_REDIRECTS,
    ):
        self.timeout = timeout
        self.allow_private_addresses = allow_private_addresses
        self.max_redirects = max_redirects
        self.hosts = host_limiter or HostLimiter(concurrency=connections, delay=0.0)
        self._is_allowed = address_policy
        headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        # Configured feeds: no per-host cap of aiohttp's own; HostLimiter's feed limit is the one (aiohttp's
        # 6 held 1,000 feeds on one host at 6 at once whatever poll.per_host_concurrency said).
        self._trusted = _new_session(headers, connections, limit_per_host=0)
        # Hosts named by feeds (article links) reach only the guarded session: no DNS cache there.
        if allow_private_addresses:
            self._guarded = _new_session(headers, connections, dns_cache=False)
        else:
            resolver = GuardedResolver(address_policy)
            factory = guarded_socket_factory(address_policy)
            self._guarded = _new_session(
                headers, connections, resolver=resolver, socket_factory=factory, dns_cache=False
            )

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        headers: dict[str, str] | None = None,
        guarded: bool = False,
        paced: bool = True,
        feed: bool = False,
        then: contextlib.AbstractAsyncContextManager[Any] | None = None,
        reserve: Reserve | None = None,
    ) -> Response:
        """Fetch `url`; raise FetchError on network failure, timeout or a body over `max_bytes`.

        `guarded=False` is for configured feed URLs only (see the module docstring).
        `paced=False` skips the per-host delay (not the concurrency limit, nor a Retry-After pause).
        `feed=True`: a configured feed's poll, limited per host by the feed limit, with no delay between
        starts; a host pause longer than FEED_PAUSE_WAIT_SECONDS fails it at once (HostLimiter).
        `then`: a shared slot to hold for the request, taken once the host's turn has come (HostLimiter).
        `reserve`: awaited with the body's size so far before each chunk of it is kept (room in memory,
        page_room.py); the wait counts against the timeout.
        """
        host = _host_key(url)
        try:
            async with self.hosts.slot(host, paced=paced, feed=feed, then=then):
                response = await self._get_in_time(url, max_bytes, headers or {}, guarded, reserve)
                # Before the slot is given back: the next request of the host already sees the pause.
                self._honour_pause(host, response, feed)
        except HostPausedError as exc:
            reason = (
                f"not requested: {host} asked for a pause (HTTP 429/503 with Retry-After), "
                f"{exc.seconds_left:.0f} s left; every feed of the host waits for it"
            )
            raise FetchError(url, reason, retry_after=exc.seconds_left) from None
        return response

    def _honour_pause(self, host: str, response: Response, feed: bool) -> None:
        """A 429/503 pauses the whole host for its Retry-After; a feed's 429 without one, for a minute."""
        if response.status not in (429, 503):
            return
        seconds = response.retry_after
        if not seconds and feed and response.status == 429:
            # Only 429: a 503 without Retry-After is one broken feed (RSSHub answers a failing route
            # so), and pausing its host would stop every healthy feed there.
            seconds = RATE_LIMITED_PAUSE_SECONDS
        if seconds:
            if not self.hosts.pause_left(host):  # said once per pause, not once per feed of the host
                given = "Retry-After" if response.retry_after else "no Retry-After: a minute"
                reason = f"HTTP {response.status} ({given}); no request to the host until then"
                log_event(
                    log, logging.WARNING, "host.paused", host=host, seconds=round(seconds), reason=reason
                )
            self.hosts.pause(host, seconds)

    async def _get_in_time(
        self, url: str, max_bytes: int, headers: dict[str, str], guarded: bool, reserve: Reserve | None
    ) -> Response:
        with recording_refusals() as refused:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._follow(url, max_bytes, headers, guarded, reserve)
            except TimeoutError:
                raise FetchError(url, f"timed out after {self.timeout:g}s") from None
            except BlockedAddressError as exc:
                raise BlockedAddressError(url, _blocked_reason(exc.reason, guarded)) from None
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                if refused:
                    reason = f"refusing to connect to a non-public address {refused[0]}"
                    raise BlockedAddressError(url, _blocked_reason(reason, guarded)) from None
                raise FetchError(url, _describe(exc)) from None

    async def _follow(
        self, url: str, max_bytes: int, headers: dict[str, str], guarded: bool, reserve: Reserve | None
    ) -> Response:
        moved_to, still_permanent = None, True
        guard = guarded  # whether this hop must reach a public address
        # Parsed once by yarl, as aiohttp would: the object checked is the object requested.
        target = URL(url)
        for hop in range(self.max_redirects + 1):
            self._check_target(target, url, guard)
            session = self._guarded if guard else self._trusted
            async with session.get(target, headers=headers, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status in _REDIRECT_STATUSES and location:
                    if hop == 0 and not guarded and not self.allow_private_addresses:
                        guard = not await self._points_at_private_address(target)
                    target = _redirect_target(target, location)
                    url = str(target)
                    still_permanent = still_permanent and response.status in _PERMANENT_REDIRECTS
                    moved_to = url if still_permanent else moved_to
                    continue
                body = await read_capped(response, url, max_bytes, reserve)
                headers_copy = CIMultiDict(response.headers)
                return Response(
                    url=url, status=response.status, headers=headers_copy, body=body, moved_to=moved_to
                )
        raise FetchError(url, f"more than {self.max_redirects} redirects")

    def _check_target(self, target: URL, url: str, guard: bool) -> None:
        """Refuse a URL that is not http(s), or (when `guard`) whose host spells a non-public IP address."""
        if target.scheme not in ("http", "https") or not target.raw_host:
            raise FetchError(url, "only http:// and https:// links are fetched")
        if guard and not self.allow_private_addresses:
            try:
                address = host_address(target.raw_host)
            except ValueError:
                reason = f"refusing the host {target.raw_host}: it ends in a number but is no valid address"
                raise BlockedAddressError(url, reason) from None
            if address is not None and not self._is_allowed(str(address)):
                raise BlockedAddressError(url, f"refusing a non-public address {address}")

    async def _points_at_private_address(self, target: URL) -> bool:
        """Whether a configured feed URL itself names a non-public address (a name: any it resolves to).

        Asked only when the feed redirects: the operator chose that address, so its redirects may stay
        on the operator's network; a feed on a public address may not lead into it.
        """
        host = target.raw_host or ""
        try:
            address = host_address(host)
        except ValueError:
            return False
        if address is not None:
            return not self._is_allowed(str(address))
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, target.port, type=socket.SOCK_STREAM)
        except OSError:
            return False
        return any(not self._is_allowed(str(info[4][0])) for info in infos)

    async def close(self) -> None:
        await self._trusted.close()
        await self._guarded.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _redirect_target(current: URL, location: str) -> URL:
    """Where a Location header leads, read as aiohttp reads its own redirects: an absolute URL as it
    is (re-joining would print and re-parse it), anything else joined to the current URL."""
    parsed = URL(location)
    return parsed if parsed.scheme and parsed.absolute else current.join(parsed)


def _blocked_reason(reason: str, guarded: bool) -> str:
    if guarded:
        return reason
    # Only a configured feed's redirect is refused on an unguarded request.
    return (
        f"the feed redirected to a non-public address ({reason}); a feed on a public address may not "
        "lead into private ones: set fetch.allow_private_addresses: true if it really moved there"
    )


def _host_key(url: str) -> str:
    """The host as aiohttp reads it, so one host spelled two ways waits in one politeness queue."""
    try:
        return (URL(url).raw_host or "").lower()
    except (ValueError, TypeError):  # unreadable: its request fails with a clear reason in _follow
        return ""


def _new_session(
    headers: dict[str, str],
    connections: int,
    *,
    resolver: AbstractResolver | None = None,
    socket_factory: SocketFactoryType | None = None,
    dns_cache: bool = True,
    limit_per_host: int = 6,
) -> aiohttp.ClientSession:
    # Per-host limit (0: none): politeness towards one site when many of its articles are due at once,
    # also for the hosts redirects lead to, which HostLimiter (keyed by the requested URL) does not see.
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=limit_per_host,
        resolver=resolver,
        # aiohttp's DNS cache has no size limit and drops an entry only when it is looked up again: with
        # hosts named by feeds it would grow by every new host a feed links to.
        use_dns_cache=dns_cache,
        ttl_dns_cache=300,
        socket_factory=socket_factory,
    )
    # trust_env stays False: a proxy would connect on our behalf, to addresses no check here sees.
    return aiohttp.ClientSession(
        headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    )


def _describe(exc: Any) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if text != exc.__class__.__name__ else text
