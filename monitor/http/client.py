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
2. a DNS name is judged by every address it resolves to (GuardedResolver);
3. every socket the guarded session opens is judged on the address it is about to connect to
   (`guarded_socket_factory`), literal or resolved, so a spelling nobody foresaw still meets the policy.

Every redirect hop is a new request judged the same way. A configured feed's own URL is the operator's
choice and is fetched wherever it points; its redirects are guarded like article links unless that URL
itself points at a non-public address (then the feed lives on the operator's own network).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDict
from yarl import URL

from .. import metrics
from ..address_policy import AddressPolicy, host_address
from ..address_policy import is_public_address as is_public_address
from ..errors import BlockedAddressError, FetchError
from ..logs import log_event

if TYPE_CHECKING:  # aiohttp's own dependency, which defines what a socket_factory is
    from aiohappyeyeballs import AddrInfoType, SocketFactoryType

log = logging.getLogger("monitor.http")
# Room in memory for a body as it is read: awaited with its size so far (HttpClient.get's `reserve`).
Reserve = Callable[[int], Awaitable[None]]

# Beyond this many hops a chain of redirects is a loop or an attack, not a news site.
MAX_REDIRECTS = 10
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}


@dataclass(frozen=True)
class Response:
    """A finished response with its body read (and capped)."""

    url: str  # the final URL after redirects
    status: int
    headers: CIMultiDict[str]
    body: bytes
    moved_to: str | None = None  # where permanent redirects (301/308) from the requested URL lead

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def retry_after(self) -> float | None:
        """Seconds from a Retry-After header (delta or HTTP date), capped at a day; None if absent or bad."""
        return parse_retry_after(self.headers.get("Retry-After"))

    def raise_for_status(self) -> None:
        if self.status >= 400:
            reason = f"HTTP {self.status}"
            raise FetchError(self.url, reason, status=self.status, retry_after=self.retry_after)

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip("\"' ")
        return None


# A server may ask us to wait; a day is the most we honour, so a typo like "Retry-After: 9999999" cannot
# silence a feed for months.
MAX_RETRY_AFTER_SECONDS = 86_400.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


class GuardedResolver(AbstractResolver):
    """Resolves names like the default resolver, then refuses any answer the address policy rejects."""

    def __init__(self, is_allowed: AddressPolicy = is_public_address) -> None:
        self._resolver = DefaultResolver()
        self._is_allowed = is_allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        blocked = [result["host"] for result in results if not self._is_allowed(result["host"])]
        if blocked:
            raise BlockedAddressError(host, f"refusing a non-public address {blocked[0]} for host {host}")
        return results

    async def close(self) -> None:
        await self._resolver.close()


class RefusedConnectionError(OSError):
    """What the guarded socket factory raises instead of opening a socket to a refused address."""


# The addresses the guarded socket factory refused during the current request. aiohttp wraps the
# factory's error in ClientConnectorError, and happy eyeballs merges several errors into one plain
# OSError, so the refusal is recorded here to be reported as a BlockedAddressError.
_REFUSED_CONNECTIONS: ContextVar[list[str] | None] = ContextVar("refused_connections", default=None)


def guarded_socket_factory(is_allowed: AddressPolicy) -> SocketFactoryType:
    """aiohttp's `socket_factory`: judge the address a socket is about to connect to, whatever the URL said.

    aiohttp skips the resolver for every host it reads as an IP literal, so the resolver alone cannot
    guard; every direct connection, literal or resolved, goes through this factory.
    """

    def create_socket(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        address = str(sockaddr[0])
        if not is_allowed(address):
            refused = _REFUSED_CONNECTIONS.get()
            if refused is not None:
                refused.append(address)
            raise RefusedConnectionError(
                errno.EACCES, f"refusing to connect to a non-public address {address}"
            )
        return socket.socket(family=family, type=kind, proto=proto)

    return create_socket


# The per-host table is swept once it holds this many hosts, then each time it doubles: amortised O(1)
# per request, and never more than about twice the hosts that are busy, delayed or paused.
SWEEP_HOSTS_FROM = 1_000

# A configured feed's request waits out a host's Retry-After pause this short; a longer pause fails the
# poll at once (HostPausedError), and the feed is polled again once the pause is over: a `once` run or a
# cycle must not sit for an hour behind a `Retry-After: 3600`.
FEED_PAUSE_WAIT_SECONDS = 30.0
# A 429 without Retry-After on a feed still pauses every feed of its host, this long: "too many
# requests" is about the client, not about the one feed that happened to get the answer.
RATE_LIMITED_PAUSE_SECONDS = 60.0


class HostPausedError(Exception):
    """A feed request not sent: its host asked for a pause (Retry-After) longer than a feed waits."""

    def __init__(self, host: str, seconds_left: float):
        super().__init__(host, seconds_left)
        self.host = host
        self.seconds_left = seconds_left


class HostLimiter:
    """Politeness per host, of two kinds, and one Retry-After pause per host that both honour.

    Article pages (and robots.txt) come from strangers' feeds and go to strangers' sites: at most
    `concurrency` requests at once per host, starts at least `delay` apart (not for robots.txt). Each
    host's paced requests line up for their turn one at a time; a request takes a shared slot (`then`:
    the pipeline's page-fetch gate) only once its host's turn has come. A host with a long backlog
    therefore holds at most `concurrency` shared slots and has one request waiting for one, never its
    whole queue holding slots while it sleeps (issue 12: 110 items on one slow host held every
    page-fetch slot and delayed another feed's article by 49 s).

    Configured feeds are the operator's choice, and 1,000 of them may live on one host (a self-hosted
    RSSHub, one search engine's news feeds): at most `feed_concurrency` at once per host and no delay
    between starts, which at 1 s a start made such a cycle take 1,000 s (issue 13). They have their
    own slots, so a host's feeds never wait behind its pages; a feed's start delays the host's next page
    as a page's start would.

    A 429/503 with Retry-After (and a feed's 429 without one, RATE_LIMITED_PAUSE_SECONDS) pauses the
    whole host: no request of either kind starts until it is over. Pages wait it out; feeds wait up to
    FEED_PAUSE_WAIT_SECONDS and otherwise fail at once with the time left (HostPausedError).
    """

    def __init__(self, concurrency: int = 2, delay: float = 1.0, *, feed_concurrency: int = 32):
        self.concurrency = concurrency
        self.delay = delay
        self.feed_concurrency = feed_concurrency
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._feed_slots: dict[str, asyncio.Semaphore] = {}
        self._turns: dict[str, asyncio.Lock] = {}
        self._next_start: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        # Hosts come from feeds (article links): a host's state is dropped once it has no request under
        # way and no delay or pause left, in sweeps that run when the table has doubled since the last.
        self._busy: dict[str, int] = {}
        self._sweep_at = SWEEP_HOSTS_FROM

    def set_feed_concurrency(self, feed_concurrency: int) -> None:
        """A new per-host feed limit (live reload): requests from now on use it, those in flight finish."""
        if feed_concurrency != self.feed_concurrency:
            self.feed_concurrency = feed_concurrency
            self._feed_slots = {}

    @contextlib.asynccontextmanager
    async def slot(
        self,
        host: str,
        *,
        paced: bool = True,
        feed: bool = False,
        then: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> AsyncIterator[None]:
        """A request slot; `paced=False` (robots.txt) skips the delay, never a Retry-After pause.

        `feed=True`: a configured feed's request (feed slots, no delay; see the class docstring).
        `then`: a shared slot to hold as well, taken only once this host's turn has come.
        """
        self._busy[host] = self._busy.get(host, 0) + 1
        try:
            if feed:
                async with self._feed_slot(host, then):
                    yield
            else:
                async with self._host_slot(host, paced=paced, then=then):
                    yield
        finally:
            self._busy[host] -= 1
            if not self._busy[host]:
                del self._busy[host]
            if len(self._slots) + len(self._feed_slots) >= self._sweep_at:
                self._forget_idle_hosts()

    @property
    def hosts_tracked(self) -> int:
        """Hosts whose state is kept: the busy ones, those with a delay or pause left, and not yet swept."""
        return len(self._tracked())

    def _tracked(self) -> set[str]:
        return (
            self._slots.keys() | self._feed_slots.keys() | self._next_start.keys() | self._paused_until.keys()
        )

    def _forget_idle_hosts(self) -> None:
        now = asyncio.get_running_loop().time()
        for host in list(self._tracked()):
            if (
                host not in self._busy
                and max(self._next_start.get(host, 0.0), self._paused_until.get(host, 0.0)) <= now
            ):
                for table in (
                    self._slots,
                    self._feed_slots,
                    self._turns,
                    self._next_start,
                    self._paused_until,
                ):
                    table.pop(host, None)
        self._sweep_at = max(SWEEP_HOSTS_FROM, 2 * (len(self._slots) + len(self._feed_slots)))

    @contextlib.asynccontextmanager
    async def _host_slot(
        self, host: str, *, paced: bool, then: contextlib.AbstractAsyncContextManager[Any] | None
    ) -> AsyncIterator[None]:
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self.concurrency))
        async with semaphore, contextlib.AsyncExitStack() as held:
            if paced:
                async with self._turns.setdefault(host, asyncio.Lock()):
                    await self._wait_until(host, self._next_start.get(host, 0.0), "page")
                    if then is not None:
                        await held.enter_async_context(then)
                    # From when the request really starts: the shared slot may have taken a while.
                    self._next_start[host] = max(
                        self._next_start.get(host, 0.0), asyncio.get_running_loop().time() + self.delay
                    )
            else:
                await self._wait_until(host, self._paused_until.get(host, 0.0), "robots")
                if then is not None:
                    await held.enter_async_context(then)
            yield

    @contextlib.asynccontextmanager
    async def _feed_slot(
        self, host: str, then: contextlib.AbstractAsyncContextManager[Any] | None
    ) -> AsyncIterator[None]:
        semaphore = self._feed_slots.setdefault(host, asyncio.Semaphore(self.feed_concurrency))
        async with semaphore, contextlib.AsyncExitStack() as held:
            # A loop: another feed's 429 may lengthen the pause while this one waits it out.
            while (left := self.pause_left(host)) > 0:
                if left > FEED_PAUSE_WAIT_SECONDS:
                    raise HostPausedError(host, left)
                await self._wait_until(host, self._paused_until[host], "feed")
            if then is not None:
                await held.enter_async_context(then)
            # Not spaced itself, but a start the host's pages keep their distance from: a news site's
            # feed, robots.txt and first article are not three requests in a row.
            self._next_start[host] = max(
                self._next_start.get(host, 0.0), asyncio.get_running_loop().time() + self.delay
            )
            yield

    def pause_left(self, host: str) -> float:
        """Seconds until `host`'s Retry-After pause is over (0 when it is not paused)."""
        return max(self._paused_until.get(host, 0.0) - asyncio.get_running_loop().time(), 0.0)

    async def _wait_until(self, host: str, moment: float, request: str) -> None:
        wait = moment - asyncio.get_running_loop().time()
        if wait > 0:
            reason = "pause" if self.pause_left(host) > 0 else "delay"
            metrics.HOST_WAITS.labels(request, reason).inc()
            await asyncio.sleep(wait)

    def pause(self, host: str, seconds: float) -> None:
        """Honour a Retry-After: no request to `host` starts for `seconds`."""
        until = asyncio.get_running_loop().time() + seconds
        self._next_start[host] = max(self._next_start.get(host, 0.0), until)
        self._paused_until[host] = max(self._paused_until.get(host, 0.0), until)


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
        refused: list[str] = []
        token = _REFUSED_CONNECTIONS.set(refused)
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
        finally:
            _REFUSED_CONNECTIONS.reset(token)

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
                body = await _read_capped(response, url, max_bytes, reserve)
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


async def _read_capped(
    response: aiohttp.ClientResponse, url: str, max_bytes: int, reserve: Reserve | None = None
) -> bytes:
    """Read the (decompressed) body, stopping as soon as it passes max_bytes: no gzip bomb fills memory.

    `reserve(size)` is awaited before a chunk is kept, `size` the body's bytes with it.
    """
    declared = response.content_length
    if declared is not None and declared > max_bytes and "Content-Encoding" not in response.headers:
        raise FetchError(
            url, f"response too large: {declared} bytes, the limit is {max_bytes}", status=response.status
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(
                url, f"response too large: over the limit of {max_bytes} bytes", status=response.status
            )
        if reserve is not None:
            await reserve(size)
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(exc: Any) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if text != exc.__class__.__name__ else text
