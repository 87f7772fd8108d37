"""The ops endpoints' listening sockets: a connection cap, one deadline per connection, accept errors
logged once.

The endpoints are unauthenticated, so a client must not be able to hold the process's file descriptors
(the service needs them for feeds, pages, Slack and its store), nor the slots that a health checker
needs. aiohttp's own server has no connection cap, no deadline for a response the client does not read,
and serves any number of requests on a kept-alive or pipelined connection; asyncio's accept loop, once
the process is out of descriptors, logs one error per queued connection per retry (about 167,000 lines
in 30 s when it was tried). So the sockets are ours:

- each connection serves one request: every response says `Connection: close` (OpsServer sets it), and
  requests pipelined behind the first are never handled. Health checkers and Prometheus reconnect
  cheaply; a client cannot keep a slot by polling over keep-alive;
- each connection has one deadline from accept, `header_timeout` + RESPONSE_SECONDS: its request line
  and headers must have arrived within `header_timeout`, and the answer must be handled and taken by
  the client by the deadline; then the connection is aborted, whatever state it is in (a client that
  does not read its answer included, even after aiohttp has closed it: ops_undelivered.py);
- at most `max_connections` connections are open at once. A new connection is always accepted: at the
  cap it replaces the connection least likely to still be useful (one whose answer is written and
  waiting for the client to read it, then one that has not sent a whole request, then the oldest), so
  a fresh /healthz is answered even when an attacker holds every slot. Descriptors: the cap plus the
  newcomer while the replaced connection closes;
- an accept that fails (EMFILE and its kin) is retried after a pause, and logged once per burst: the
  first failure at once, then one line per ACCEPT_ERROR_LOG_SECONDS with how many were not logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from .ops_logging import AcceptErrorLog
from .ops_undelivered import UndeliveredAnswers, reset_on_close

log = logging.getLogger("monitor.ops")

# Connections the kernel queues for us while we do not accept (all slots busy, or out of descriptors).
LISTEN_BACKLOG = 128
# After a failed accept: long enough that a descriptor shortage is not spun on, short enough to resume
# serving soon after one is freed.
ACCEPT_RETRY_SECONDS = 0.5
# After the headers: time for the handler (milliseconds, unless the store hangs) and for the client to
# read the answer (a few KB). A connection's whole life is at most header_timeout + this.
RESPONSE_SECONDS = 5.0


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout: float  # seconds to send the request's line and headers
    response_seconds: float = RESPONSE_SECONDS  # then to handle it and to read the answer

    @property
    def deadline(self) -> float:
        """Seconds from accept after which a connection is aborted, whatever it is doing."""
        return self.header_timeout + self.response_seconds


class _Connection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol inside; the slot and the deadlines outside."""

    def __init__(
        self,
        inner: asyncio.Protocol,
        limits: ConnectionLimits,
        slots: _Slots,
        undelivered: UndeliveredAnswers,
    ):
        self._inner = inner
        self._limits = limits
        self._slots = slots
        self._undelivered = undelivered
        self.transport: asyncio.Transport | None = None
        self.requested = False  # its request arrived whole (its handler ran)
        self.answered = False  # its response was started: only the client's reading is left
        self._dropped = False
        self._deadline_at = 0.0
        self._timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._slots.taken(self)
        loop = asyncio.get_running_loop()
        self._deadline_at = loop.time() + self._limits.deadline
        self._timers = [
            loop.call_later(self._limits.header_timeout, self._headers_overdue),
            loop.call_later(self._limits.deadline, self.drop),
        ]
        self._inner.connection_made(transport)

    @property
    def eviction_rank(self) -> int:
        """Which connection makes room for a new one: the lowest rank, the oldest within a rank."""
        if self.answered and self.transport is not None and self.transport.get_write_buffer_size():
            return 0  # its answer is written but not taken: the client is slow to read, or never will
        if not self.requested:
            return 1  # no whole request yet: a real client sends its request at once
        return 2  # in its handler, or answered and closing (both a matter of milliseconds)

    def request_started(self) -> None:
        self.requested = True

    def response_started(self) -> None:
        self.requested = self.answered = True

    def drop(self) -> None:
        """Reset the connection now. Not close(), which waits for a client that does not read; and with
        SO_LINGER 0, or the kernel would go on trying to deliver what is left in the socket's send
        buffer (up to megabytes per connection) long after the descriptor is freed."""
        if self.transport is None:
            return
        self._dropped = True
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            reset_on_close(sock)
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
        for timer in self._timers:
            timer.cancel()
        self._slots.freed(self)
        if not self._dropped and exc is None and self.transport is not None:
            # Closed by aiohttp with its answer written: the socket is still open here (asyncio closes
            # it after this call); an answer the client has not taken waits for the deadline.
            self._undelivered.keep(self.transport.get_extra_info("socket"), self._deadline_at)
        self._inner.connection_lost(exc)


class _Slots:
    """The open connections, oldest first."""

    def __init__(self) -> None:
        self.open: dict[asyncio.BaseTransport, _Connection] = {}

    def taken(self, connection: _Connection) -> None:
        assert connection.transport is not None
        self.open[connection.transport] = connection

    def freed(self, connection: _Connection) -> None:
        if connection.transport is not None and self.open.get(connection.transport) is connection:
            del self.open[connection.transport]

    def least_useful(self) -> _Connection | None:
        """The connection to replace at the cap: lowest eviction rank, then oldest (dicts keep order)."""
        return min(self.open.values(), key=lambda connection: connection.eviction_rank, default=None)


class GuardedListener:
    """Accepts connections on host:port for `protocol_factory` within ConnectionLimits."""

    def __init__(self, protocol_factory: Callable[[], asyncio.Protocol], limits: ConnectionLimits):
        self._factory = protocol_factory
        self._limits = limits
        self._slots = _Slots()
        self._undelivered = UndeliveredAnswers(limits.max_connections)
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
        self._undelivered.reset_all()

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """Called for each request that reached a handler: its connection is past the header deadline."""
        connection = self._slots.open.get(transport) if transport is not None else None
        if connection is not None:
            connection.request_started()

    def response_started(self, transport: asyncio.BaseTransport | None) -> None:
        """Called as each response is prepared: its connection is the first to make room at the cap."""
        connection = self._slots.open.get(transport) if transport is not None else None
        if connection is not None:
            connection.response_started()

    async def _accept_forever(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(sock)
            except ConnectionAbortedError:  # the client gave up while queued
                continue
            except OSError as exc:  # out of descriptors or memory: wait for some to be freed
                self._errors.failed(exc)
                await asyncio.sleep(ACCEPT_RETRY_SECONDS)
                continue
            if self._full():
                self._make_room()
            await self._serve(loop, conn)

    def _full(self) -> bool:
        return len(self._slots.open) >= self._limits.max_connections

    def _make_room(self) -> None:
        """Never refuse the newcomer (it may be the health check): drop the least useful connection.
        Every connection's life is bounded by the deadline anyway, so this only brings its end forward."""
        victim = self._slots.least_useful()
        if victim is not None:
            self._slots.freed(victim)  # its slot is the newcomer's; its descriptor closes next tick
            victim.drop()

    async def _serve(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        connection = _Connection(self._factory(), self._limits, self._slots, self._undelivered)
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
