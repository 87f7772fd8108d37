"""An ops answer the client never takes is reset at the connection's deadline, not left to the kernel.

aiohttp closes a connection once its answer is written; with a client that does not read, the kernel
would hold the answer and the FIN for minutes after the descriptor is gone, and the client would never
see the connection end (tests/faults/test_ops_endpoint.py shows it on a whole service once /metrics
outgrew the buffers). Real sockets on the loopback; the waits below are event-loop timers, ordered.
"""

from __future__ import annotations

import asyncio
import select
import socket
import sys

import pytest

from monitor.service.ops_undelivered import UndeliveredAnswers, unsent_bytes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SIOCOUTQ is Linux's")


def connected_pair(receive_buffer: int | None = None) -> tuple[socket.socket, socket.socket]:
    """(server side, client side) of one loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket()
        if receive_buffer:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    server.setblocking(False)
    return server, client


def fill(server: socket.socket) -> int:
    """Write until the kernel takes no more (the client is not reading)."""
    written = 0
    try:
        while True:
            written += server.send(b"x" * 65536)
    except BlockingIOError:
        return written


def reset_seen(client: socket.socket) -> bool:
    poller = select.poll()
    poller.register(client, select.POLLHUP | select.POLLERR | select.POLLRDHUP)
    return bool(poller.poll(0))


def test_an_answer_never_taken_is_reset_at_the_deadline() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        server, client = connected_pair(receive_buffer=4096)
        fill(server)
        assert unsent_bytes(server) > 0
        answers = UndeliveredAnswers(limit=4)
        answers.keep(server, asyncio.get_running_loop().time() + 0.5)
        server.close()  # as asyncio closes it right after connection_lost
        await asyncio.sleep(0.1)
        before = reset_seen(client)
        await asyncio.sleep(1.0)  # past the deadline: its timer runs first
        after, kept = reset_seen(client), len(answers)
        client.close()
        return before, after, kept

    before, after, kept = asyncio.run(scenario())
    assert (before, after, kept) == (False, True, 0)


def test_a_client_that_reads_gets_the_whole_answer_and_the_end() -> None:
    async def scenario() -> tuple[int, int, int]:
        server, client = connected_pair(receive_buffer=4096)
        written = fill(server)
        answers = UndeliveredAnswers(limit=4)
        answers.keep(server, asyncio.get_running_loop().time() + 30)
        server.close()
        client.setblocking(False)
        received = 0
        while True:
            try:
                chunk = client.recv(65536)
            except BlockingIOError:
                await asyncio.sleep(0.01)
                continue
            if not chunk:  # the FIN, after the whole answer
                break
            received += len(chunk)
        for _ in range(100):
            if not len(answers):
                break
            await asyncio.sleep(0.05)
        client.close()
        return written, received, len(answers)

    written, received, kept = asyncio.run(scenario())
    assert received == written and kept == 0


def test_beyond_the_limit_a_socket_is_reset_at_once() -> None:
    async def scenario() -> tuple[bool, int]:
        server, client = connected_pair(receive_buffer=4096)
        fill(server)
        answers = UndeliveredAnswers(limit=0)
        answers.keep(server, asyncio.get_running_loop().time() + 30)
        server.close()
        await asyncio.sleep(0.1)
        seen = reset_seen(client)
        client.close()
        return seen, len(answers)

    assert asyncio.run(scenario()) == (True, 0)
