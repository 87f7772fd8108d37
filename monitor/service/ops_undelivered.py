"""Answers the kernel still holds when an ops connection closes: kept until the connection's deadline,
then reset.

aiohttp closes a connection as soon as its answer is handed to the kernel. When the client does not read
(an attacker with a tiny receive window), the answer and the FIN then wait in the socket's send buffer
after our descriptor is gone (FIN-WAIT-1): out of our hands, holding kernel memory for minutes, and the
client never learns that the connection ended. So such a socket is kept, through a duplicate descriptor
with its write side shut (a client that reads gets the FIN right after the answer), until the
connection's deadline, and reset then if the client still has not taken the answer. Linux only (the
SIOCOUTQ ioctl); elsewhere a connection closes as aiohttp closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct

try:
    import fcntl
    import termios

    _OUTQ: int | None = termios.TIOCOUTQ  # SIOCOUTQ on a socket: bytes sent but not yet acknowledged
except (ImportError, AttributeError):  # pragma: no cover - not Linux
    _OUTQ = None

# SO_LINGER on, 0 seconds: close() sends a reset and discards unsent data.
RESET_ON_CLOSE = struct.pack("ii", 1, 0)
# How often a kept socket is looked at: a client that reads has its answer within milliseconds.
CHECK_SECONDS = 0.25


class UndeliveredAnswers:
    """The sockets kept for answers not yet taken; at most `limit` (then one is reset at once)."""

    def __init__(self, limit: int):
        self._limit = limit
        self._kept: set[socket.socket] = set()

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, sock: socket.socket | None, deadline_at: float) -> None:
        """Called as a connection closes: keep its socket if the kernel still holds some of its answer."""
        if sock is None or _OUTQ is None or unsent_bytes(sock) == 0:
            return
        if len(self._kept) >= self._limit:
            reset_on_close(sock)  # no room to wait: the close that follows resets it
            return
        try:
            kept = socket.socket(fileno=os.dup(sock.fileno()))
            kept.shutdown(socket.SHUT_WR)
        except OSError:
            return
        self._kept.add(kept)
        asyncio.get_running_loop().call_later(CHECK_SECONDS, self._check, kept, deadline_at)

    def reset_all(self) -> None:
        for kept in list(self._kept):
            self._release(kept, reset=True)

    def _check(self, kept: socket.socket, deadline_at: float) -> None:
        loop = asyncio.get_running_loop()
        delivered = unsent_bytes(kept) == 0
        if delivered or loop.time() >= deadline_at:
            self._release(kept, reset=not delivered)
        else:
            loop.call_at(min(deadline_at, loop.time() + CHECK_SECONDS), self._check, kept, deadline_at)

    def _release(self, kept: socket.socket, *, reset: bool) -> None:
        if kept in self._kept:
            self._kept.discard(kept)
            if reset:
                reset_on_close(kept)
            kept.close()


def unsent_bytes(sock: socket.socket) -> int:
    """Bytes of what was written that the client has not acknowledged yet (0 when unknown)."""
    if _OUTQ is None:
        return 0
    try:
        return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), _OUTQ, b"\0\0\0\0"))[0])
    except OSError:
        return 0


def reset_on_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
