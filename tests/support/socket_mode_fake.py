"""A local fake of Slack's Socket Mode side, which the real slack-sdk Socket Mode client talks to.

    with SlackFake(channels=[...]) as slack, SocketModeFake(slack) as sockets:
        ...  # the service posts an alert to the fake, with its buttons
        envelope = sockets.press(slack.messages()[0], "news_monitor.mute_story", user="U0AAA1")
        assert sockets.wait_for_ack(envelope)

apps.connections.open on the SlackFake (with its app-level token, `slack.app_token`) answers with this
server's ws://127.0.0.1:PORT URL. Each connection is greeted with `hello`, as Slack greets it; `press`
then sends an `interactive` envelope whose `block_actions` payload is built from a button the message
REALLY carries (as chat.postMessage / chat.update left it in the fake): its action_id, block_id, text and
value, the message's channel and ts, the way Slack builds it (docs.slack.dev, block_actions payload).
Every text frame the client sends back is recorded; an acknowledgement is one naming an envelope_id.
`drop` closes the live socket the way Slack does when it refreshes a connection; the client must open
a new one (apps.connections.open again). Two ways a connection dies without a close frame: `sever` aborts
its TCP connection (a NAT or proxy dropping it), `freeze` keeps it open but stops answering anything on it,
pings included (a half-open connection); the client must notice and open a new one.

Several clients (the instances of a fleet) may be connected at once (`live` counts them): `press`,
`replay`, `drop`, `sever` and `freeze` take `connection=`, an index in the open connections in the order
they connected (the latest by default), as Slack picks one of an app's connections for each envelope.

`events` is one ordered log of what the fake saw (connect, sent, ack), for tests that assert order, never
time: tests/support's other servers can append to it too.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import WSCloseCode, WSMsgType, web

from tests.support.slack_fake import BOT_ID, TEAM_ID, SlackFake

APP_ID = "A0000001"


class SocketModeFake:
    def __init__(self, slack: SlackFake) -> None:
        self.slack = slack
        self.events: list[str] = []
        self.acks: list[str] = []
        self.connections = 0
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._live: list[_Connection] = []  # open connections, in the order they connected
        self._port = 0
        self._tickets = itertools.count(1)
        self._triggers = itertools.count(1)
        self._sent: dict[str, dict[str, Any]] = {}

    # -- lifecycle --

    def start(self) -> Self:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._serve())
        self.slack.socket_url = self.url
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.slack.socket_url = None
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self) -> str:
        """A new ticket each time, as apps.connections.open hands out a fresh URL."""
        return f"ws://127.0.0.1:{self._port}/link/?ticket={next(self._tickets)}&app_id={APP_ID}"

    # -- what tests do --

    def press(self, message: dict[str, Any], action_id: str, *, user: str = "U0ANALYST1",
              envelope_id: str | None = None, value: str | None = None,
              connection: int = -1) -> str:  # fmt: skip
        """Press a button the message carries; returns the envelope's id. `value` forges another value
        (what Slack itself never sends), to test that the service checks it."""
        block, button = _button(message, action_id)
        action = {"action_id": button["action_id"], "block_id": block.get("block_id") or "b1",
                  "text": button["text"], "value": button["value"] if value is None else value,
                  "type": "button", "action_ts": f"{time.time():.6f}"}  # fmt: skip
        payload = self._payload(message, action, user)
        return self.send_interactive(payload, envelope_id=envelope_id, connection=connection)

    def send_interactive(
        self, payload: dict[str, Any], *, envelope_id: str | None = None, connection: int = -1
    ) -> str:
        """Send one `interactive` envelope over a live socket (the same envelope_id replays one)."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": "interactive",
                    "accepts_response_payload": False}  # fmt: skip
        self._sent[envelope_id] = envelope
        self._call(self._send(envelope, connection))
        return envelope_id

    def replay(self, envelope_id: str, *, connection: int = -1) -> None:
        """Send an envelope again, unchanged, as Slack does when it retries one (on any connection)."""
        self._call(self._send(self._sent[envelope_id], connection))

    def drop(self, *, connection: int = -1) -> None:
        """Close a live socket as Slack does when it refreshes the connection."""
        self._call(self._close_socket(connection))

    def sever(self, *, connection: int = -1) -> None:
        """Abort a live socket's TCP connection: no close frame, the client just sees it end."""
        self._call(self._sever(connection))

    def freeze(self, *, connection: int = -1) -> None:
        """Keep a live socket's TCP connection open but answer nothing on it any more, pings included."""
        self._call(self._freeze(connection))

    @property
    def live(self) -> int:
        """How many connections are open (a frozen one counts until the client gives it up)."""
        return len(self._live)

    def wait_for_ack(self, envelope_id: str, timeout: float = 20.0) -> bool:
        return self._wait(lambda: envelope_id in self.acks, timeout)

    def wait_for_acks(self, envelope_id: str, count: int, timeout: float = 20.0) -> bool:
        return self._wait(lambda: self.acks.count(envelope_id) >= count, timeout)

    def wait_for_connections(self, count: int, timeout: float = 30.0, *, live: int = 1) -> bool:
        """At least `count` connections made since start, and `live` of them open and answering."""
        return self._wait(lambda: self.connections >= count and self._answering() >= live, timeout)

    def note(self, event: str) -> None:
        """Add an event of the test's own to the ordered log."""
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    # -- the server (on its own event loop, in its own thread) --

    def _call(self, coroutine: Any) -> Any:
        assert self._loop is not None, "SocketModeFake is not running: use `with SocketModeFake(slack):`"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._connection)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _connection(self, request: web.Request) -> web.WebSocketResponse:
        # Pings are answered here, not by aiohttp, so that a frozen connection can stop answering them.
        socket = web.WebSocketResponse(autoping=False)
        await socket.prepare(request)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID},
                 "debug_info": {"host": "applink-fake", "build_number": 1,
                                "approximate_connection_time": 18060}}  # fmt: skip
        await socket.send_json(hello)
        live = _Connection(socket, request)
        self._live.append(live)
        self.note(f"connect:{request.query.get('ticket')}")
        with self._changed:
            self.connections += 1
            self._changed.notify_all()
        try:
            async for frame in socket:
                if live.frozen:
                    continue
                if frame.type == WSMsgType.PING:
                    await socket.pong(frame.data)
                elif frame.type == WSMsgType.TEXT:
                    self._received(frame.data)
        finally:
            self._forget(live)
        return socket

    def _forget(self, live: _Connection) -> None:
        if live in self._live:
            self._live.remove(live)
            self.note("disconnect")

    def _answering(self) -> int:
        return sum(not live.frozen for live in self._live)

    def _pick(self, connection: int) -> _Connection:
        try:
            return self._live[connection]
        except IndexError:
            raise AssertionError(
                f"no Socket Mode connection {connection} to send on: {len(self._live)} open"
            ) from None

    def _received(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            return
        if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
            with self._changed:
                self.acks.append(data["envelope_id"])
            self.note(f"ack:{data['envelope_id']}")

    async def _send(self, envelope: dict[str, Any], connection: int) -> None:
        live = self._pick(connection)
        self.note(f"sent:{envelope['envelope_id']}")
        await live.socket.send_json(envelope)

    async def _close_socket(self, connection: int) -> None:
        live = self._pick(connection)
        self._forget(live)
        await live.socket.close(code=WSCloseCode.GOING_AWAY, message=b"refresh_requested")

    async def _sever(self, connection: int) -> None:
        live = self._pick(connection)
        self._forget(live)
        assert live.request.transport is not None, "the connection's transport is already gone"
        live.request.transport.abort()  # no close frame, no FIN handshake: the TCP connection just ends

    async def _freeze(self, connection: int) -> None:
        self._pick(connection).frozen = True
        self.note("frozen")

    async def _shutdown(self) -> None:
        for live in list(self._live):
            self._forget(live)
            if live.request.transport is not None:
                live.request.transport.abort()
        if self._runner is not None:
            await self._runner.cleanup()

    def _wait(self, condition: Any, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, timeout=timeout)

    def _payload(self, message: dict[str, Any], action: dict[str, Any], user: str) -> dict[str, Any]:
        """A block_actions payload as Slack sends it for a press in a channel message."""
        blocks = copy.deepcopy(message["blocks"])
        public = {"type": "message", "subtype": "bot_message", "text": message["text"] or "",
                  "ts": message["ts"], "bot_id": BOT_ID, "blocks": blocks}  # fmt: skip
        return {
            "type": "block_actions",
            "user": {"id": user, "username": "analyst", "name": "analyst", "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "verification-token-unused-in-socket-mode",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": message["channel"],
                "is_ephemeral": False,
            },
            "trigger_id": f"{next(self._triggers)}.1.fake",
            "team": {"id": TEAM_ID, "domain": "fake-workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message["channel"], "name": "channel"},
            "message": public,
            "state": {"values": {}},
            "response_url": "https://hooks.slack.com/actions/T0000001/1/fake",
            "actions": [action],
        }


@dataclass(eq=False)
class _Connection:
    """One client's WebSocket, and whether the fake still answers on it."""

    socket: web.WebSocketResponse
    request: web.Request
    frozen: bool = False


def _button(message: dict[str, Any], action_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or [] if block.get("type") == "actions" else []:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return block, element
    raise AssertionError(f"the message {message['ts']} carries no button {action_id!r}")
