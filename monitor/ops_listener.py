"""The ops endpoints' listening sockets: a connection cap, a header deadline, accept errors logged once.

The endpoints are unauthenticated, so a client must not be able to hold the process's file descriptors:
the service needs them for feeds, pages, Slack and its store. aiohttp's own server has an idle
(keep-alive) timeout but no connection cap, and until 3.14 no deadline for a first request that never
finishes; asyncio's accept loop, once the process is out of descriptors, logs one error per queued
connection per retry (about 167,000 lines in 30 s when it was tried). So the sockets are ours:

- at most `max_connections` connections are open at once. When the cap is reached, a new connection
  replaces the oldest one that has not yet sent a whole request (a half-finished request is the cheap
  way to hold a slot, and a real client sends its request at once); when every connection is busy with
  a request, new ones wait in the kernel's listen queue, which costs the process no descriptor;
- a connection that has not sent its first request's line and headers within `header_timeout` is
  closed; after a response, aiohttp closes it when no next request has arrived within its keep-alive
  timeout (the idle timeout, set by the caller);
- an accept that fails (EMFILE and its kin) is retried after a pause, and logged once per burst: the
  first failure at once, then one line per ACCEPT_ERROR_LOG_SECONDS with how many were not logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import socket
from collections.abc import Callable
from dataclasses import dataclass

from .logs import log_event

log = logging.getLogger("monitor.ops")

# Connections the kernel queues for us while we do not accept (all slots busy, or out of descriptors).
LISTEN_BACKLOG = 128
# After a failed accept: long enough that a descriptor shortage is not spun on, short enough to resume
# serving soon after one is freed.
ACCEPT_RETRY_SECONDS = 0.5
# A burst of accept errors is one line at its start and, while it lasts, one line per this many seconds.
ACCEPT_ERROR_LOG_SECONDS = 60.0
# Descriptors the rest of `run` needs beside the ops connections: up to 100 feed and page connections
# (HttpClient's pool), Slack's, the store's files and connections, the event loop, pipes and threads.
DESCRIPTORS_FOR_THE_SERVICE = 256


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout: float  # seconds to send the first request's line and headers


class AcceptErrorLog:
    """Accept errors come in bursts (each queued connection fails again until a descriptor is free):
    the first is logged, the rest are counted and reported once per window while the burst lasts."""

    def __init__(self, window: float = ACCEPT_ERROR_LOG_SECONDS):
        self._window = window
        self._not_logged = 0
        self._window_end: asyncio.TimerHandle | None = None

    def failed(self, exc: OSError) -> None:
        if self._window_end is not None:
            self._not_logged += 1
            return
        log_event(log, logging.ERROR, "ops.accept_failed", reason=exc.strerror or str(exc),
                  next_report=f"in {self._window:g}s if it goes on",
                  fix="raise the open-file limit (LimitNOFILE) or lower ops.max_connections")  # fmt: skip
        self._open_window()

    def flush(self, stopping: bool = False) -> None:
        """Report the failures not yet logged: at the end of a window, and when the server stops."""
        if self._window_end is not None:
            self._window_end.cancel()
            self._window_end = None
        if self._not_logged:
            log_event(log, logging.ERROR, "ops.accept_failed", repeated=self._not_logged,
                      within=f"{self._window:g}s")  # fmt: skip
            self._not_logged = 0
            if not stopping:
                self._open_window()  # it was still failing: the next line is a window away too

    def _open_window(self) -> None:
        self._window_end = asyncio.get_running_loop().call_later(self._window, self.flush)


class _Connection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol inside, the header deadline and the slot outside."""

    def __init__(self, inner: asyncio.Protocol, header_timeout: float, slots: _Slots):
        self._inner = inner
        self._header_timeout = header_timeout
        self._slots = slots
        self.transport: asyncio.Transport | None = None
        self.requested = False  # a whole request arrived (its handler ran): no longer cheap to drop
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._slots.taken(self)
        self._deadline = asyncio.get_running_loop().call_later(self._header_timeout, self._headers_overdue)
        self._inner.connection_made(transport)

    def request_started(self) -> None:
        self.requested = True
        if self._deadline is not None:
            self._deadline.cancel()

    def drop(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _headers_overdue(self) -> None:
        if not self.requested:
            self.drop()

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._slots.freed(self)
        self._inner.connection_lost(exc)


class _Slots:
    """The open connections, oldest first, and an event for "one was closed"."""

    def __init__(self) -> None:
        self.open: dict[asyncio.BaseTransport, _Connection] = {}
        self.freed_one = asyncio.Event()

    def taken(self, connection: _Connection) -> None:
        assert connection.transport is not None
        self.open[connection.transport] = connection

    def freed(self, connection: _Connection) -> None:
        if connection.transport is not None and self.open.get(connection.transport) is connection:
            del self.open[connection.transport]
            self.freed_one.set()

    def unfinished(self) -> list[_Connection]:
        """Connections that have not sent a whole request, oldest first."""
        return [connection for connection in self.open.values() if not connection.requested]


class GuardedListener:
    """Accepts connections on host:port for `protocol_factory` within ConnectionLimits."""

    def __init__(self, protocol_factory: Callable[[], asyncio.Protocol], limits: ConnectionLimits):
        self._factory = protocol_factory
        self._limits = limits
        self._slots = _Slots()
        self._errors = AcceptErrorLog()
        self._sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def addresses(self) -> list[str]:
        return [str(sock.getsockname()[0]) for sock in self._sockets]

    async def start(self, host: str, port: int) -> None:
        """Listen on every address `host` resolves to (as asyncio's create_server does), then accept."""
        self._sockets = await listening_sockets(host, port)
        for sock in self._sockets:
            self._tasks.append(asyncio.create_task(self._accept_forever(sock), name="ops accept"))

    async def stop(self) -> None:
        """Stop accepting; the connections are left to the protocol's own shutdown (then `close_all`)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sock in self._sockets:
            sock.close()
        self._errors.flush(stopping=True)

    def close_all(self) -> None:
        for connection in list(self._slots.open.values()):
            connection.drop()

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """Called for each request that reached a handler: its connection is past the header deadline."""
        connection = self._slots.open.get(transport) if transport is not None else None
        if connection is not None:
            connection.request_started()

    async def _accept_forever(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wait_for_a_slot()
            try:
                conn, _ = await loop.sock_accept(sock)
            except ConnectionAbortedError:  # the client gave up while queued
                continue
            except OSError as exc:  # out of descriptors or memory: wait for some to be freed
                self._errors.failed(exc)
                await asyncio.sleep(ACCEPT_RETRY_SECONDS)
                continue
            if self._full() and not self._drop_oldest_unfinished():
                conn.close()  # every slot began a request while we waited: no room after all
                continue
            await self._serve(loop, conn)

    def _full(self) -> bool:
        return len(self._slots.open) >= self._limits.max_connections

    async def _wait_for_a_slot(self) -> None:
        """Until a slot is free, or one is held by a connection that has not sent a whole request."""
        while self._full() and not self._slots.unfinished():
            self._slots.freed_one.clear()
            await self._slots.freed_one.wait()

    def _drop_oldest_unfinished(self) -> bool:
        unfinished = self._slots.unfinished()
        if not unfinished:
            return False
        oldest = unfinished[0]
        self._slots.freed(oldest)  # its slot is the new connection's; its descriptor closes next tick
        oldest.drop()
        return True

    async def _serve(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        connection = _Connection(self._factory(), self._limits.header_timeout, self._slots)
        try:
            await loop.connect_accepted_socket(lambda: connection, conn)
        except OSError:
            conn.close()


async def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """Bound, listening, non-blocking sockets for every address of `host` ("" or "0.0.0.0": all IPv4)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    seen: set[object] = set()
    try:
        for family, kind, proto, _, address in infos:
            if address in seen:
                continue
            seen.add(address)
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio does: each address family on its own socket
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def is_loopback_address(address: str) -> bool:
    """127.0.0.0/8, ::1 or an IPv4-mapped loopback; "0.0.0.0", "::" and any other address are not."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def warn_if_exposed(host: str, addresses: list[str]) -> None:
    """The endpoints have no authentication: say so loudly when they listen beyond this machine."""
    exposed = [address for address in addresses if not is_loopback_address(address)]
    if exposed:
        log_event(log, logging.WARNING, "ops.exposed", host=host, addresses=",".join(exposed),
                  reason="/healthz and /metrics have no authentication and are reachable from the network",
                  fix="set ops.host to 127.0.0.1, or keep the port behind a firewall")  # fmt: skip


def warn_if_few_descriptors(max_connections: int) -> None:
    """A low open-file limit lets ops connections and the service's own sockets starve each other."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max_connections + DESCRIPTORS_FOR_THE_SERVICE
    if soft != resource.RLIM_INFINITY and soft < needed:
        log_event(log, logging.WARNING, "ops.fd_limit_low", open_files_limit=soft, needed=needed,
                  fix="raise LimitNOFILE (systemd) or `ulimit -n`, or lower ops.max_connections")  # fmt: skip
