"""The HTTP client every stage shares: aiohttp with whole-request timeouts, size caps and an SSRF guard.

aiohttp was chosen by measurement (issue 2): at 50 concurrent requests httpx spent about 8 ms of CPU per
request, aiohttp about 0.2 ms, and it fits the asyncio stack (APScheduler AsyncIOScheduler, AsyncWebClient).

Two sessions, because trust differs: feed URLs come from the operator's config and are fetched as
configured; article links come from strangers' feeds and go through `guarded` requests, which refuse
private, loopback, link-local, multicast and reserved addresses (unless fetch.allow_private_addresses),
check every redirect hop, and check the addresses a DNS name resolves to, at connect time, so a name
that resolves to 127.0.0.1 is refused too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDict

from .errors import BlockedAddressError, FetchError

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


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; False for everything an SSRF would aim at."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


AddressPolicy = Callable[[str], bool]


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


class HostLimiter:
    """Politeness per host: at most `concurrency` requests at once, starts at least `delay` apart,
    and no requests at all while the host's Retry-After pause lasts.

    Each host's paced requests line up for their turn one at a time; a request takes a shared slot
    (`then`: the pipeline's page-fetch gate) only once its host's turn has come. A host with a long
    backlog therefore holds at most `concurrency` shared slots and has one request waiting for one,
    never its whole queue holding slots while it sleeps (issue 12: 110 items on one slow host held
    every page-fetch slot and delayed another feed's article by 49 s).
    """

    def __init__(self, concurrency: int = 2, delay: float = 1.0):
        self.concurrency = concurrency
        self.delay = delay
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._turns: dict[str, asyncio.Lock] = {}
        self._next_start: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def slot(
        self,
        host: str,
        *,
        paced: bool = True,
        then: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> AsyncIterator[None]:
        """A request slot; `paced=False` (robots.txt) skips the delay, never a Retry-After pause.

        `then`: a shared slot to hold as well, taken only once this host's turn has come.
        """
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self.concurrency))
        async with semaphore, contextlib.AsyncExitStack() as held:
            if paced:
                async with self._turns.setdefault(host, asyncio.Lock()):
                    await self._wait_until(self._next_start.get(host, 0.0))
                    if then is not None:
                        await held.enter_async_context(then)
                    # From when the request really starts: the shared slot may have taken a while.
                    self._next_start[host] = max(
                        self._next_start.get(host, 0.0), asyncio.get_running_loop().time() + self.delay
                    )
            else:
                await self._wait_until(self._paused_until.get(host, 0.0))
                if then is not None:
                    await held.enter_async_context(then)
            yield

    @staticmethod
    async def _wait_until(moment: float) -> None:
        wait = moment - asyncio.get_running_loop().time()
        if wait > 0:
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
        self._trusted = _new_session(headers, connections, resolver=None)
        resolver = None if allow_private_addresses else GuardedResolver(address_policy)
        self._guarded = _new_session(headers, connections, resolver=resolver)

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        headers: dict[str, str] | None = None,
        guarded: bool = False,
        paced: bool = True,
        then: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> Response:
        """Fetch `url`; raise FetchError on network failure, timeout or a body over `max_bytes`.

        `paced=False` skips the per-host delay (not the concurrency limit, nor a Retry-After pause).
        `then`: a shared slot to hold for the request, taken once the host's turn has come (HostLimiter).
        """
        host = (urlsplit(url).hostname or "").lower()
        async with self.hosts.slot(host, paced=paced, then=then):
            response = await self._get_in_time(url, max_bytes, headers or {}, guarded)
        if response.status in (429, 503) and response.retry_after:
            self.hosts.pause(host, response.retry_after)
        return response

    async def _get_in_time(
        self, url: str, max_bytes: int, headers: dict[str, str], guarded: bool
    ) -> Response:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url, max_bytes, headers, guarded)
        except TimeoutError:
            raise FetchError(url, f"timed out after {self.timeout:g}s") from None
        except BlockedAddressError as exc:
            raise BlockedAddressError(url, exc.reason) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise FetchError(url, _describe(exc)) from None

    async def _follow(self, url: str, max_bytes: int, headers: dict[str, str], guarded: bool) -> Response:
        session = self._guarded if guarded else self._trusted
        moved_to, still_permanent = None, True
        for _ in range(self.max_redirects + 1):
            self._check_url(url, guarded)
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status in _REDIRECT_STATUSES and location:
                    url = urljoin(url, location)
                    still_permanent = still_permanent and response.status in _PERMANENT_REDIRECTS
                    moved_to = url if still_permanent else moved_to
                    continue
                body = await _read_capped(response, url, max_bytes)
                headers_copy = CIMultiDict(response.headers)
                return Response(
                    url=url, status=response.status, headers=headers_copy, body=body, moved_to=moved_to
                )
        raise FetchError(url, f"more than {self.max_redirects} redirects")

    def _check_url(self, url: str, guarded: bool) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(url, "only http:// and https:// links are fetched")
        # aiohttp skips the resolver for IP literals, so they are checked here.
        literal = _is_ip_literal(parts.hostname)
        if guarded and not self.allow_private_addresses and literal and not self._is_allowed(parts.hostname):
            raise BlockedAddressError(url, f"refusing a non-public address {parts.hostname}")

    async def close(self) -> None:
        await self._trusted.close()
        await self._guarded.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _new_session(
    headers: dict[str, str], connections: int, resolver: AbstractResolver | None
) -> aiohttp.ClientSession:
    # Per-host limit: politeness towards one site when many of its feeds or articles are due at once.
    connector = aiohttp.TCPConnector(
        limit=connections, limit_per_host=6, resolver=resolver, ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    )


async def _read_capped(response: aiohttp.ClientResponse, url: str, max_bytes: int) -> bytes:
    """Read the (decompressed) body, stopping as soon as it passes max_bytes: no gzip bomb fills memory."""
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
        chunks.append(chunk)
    return b"".join(chunks)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _describe(exc: Any) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if text != exc.__class__.__name__ else text
