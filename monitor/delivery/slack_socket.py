"""Socket Mode: Slack sends button presses over a WebSocket `run` opens, so no public endpoint is needed.

slack-sdk's aiohttp client does the protocol: `apps.connections.open` with the app-level token (on the
same API base URL as every other call, so SLACK_API_URL points it at a local fake), the WebSocket, pings,
and a new connection when Slack says `disconnect`, closes the socket, or stops answering pings. Each
envelope is acknowledged first (Slack wants the ack within 3 s, and then does not retry), then handed to
`handle`, which does the store work in a worker thread: a busy event loop or a slow store never delays
an ack behind it.

Every request for a URL, ours at start and the SDK's on each reconnection, goes through `_open_url`: an
answer retrying cannot fix (a token revoked while `run` is up, a URL that is not wss://) is logged once with
its fix and ends the client, where the SDK would retry it every ping interval forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from ..address_policy import is_loopback
from ..logs import log_event
from ..redact import mask_url
from .notifiers.slack import api_error, slack_web_client

log = logging.getLogger("monitor.slack_socket")

# apps.connections.open answers that retrying cannot fix: the operator must change the token or the app.
FIXES = {
    "invalid_auth": "the app-level token is invalid; create one (xapp-…) under Basic Information",
    "not_authed": "no app-level token was sent",
    "not_allowed_token_type": "that is not an app-level token (xapp-…); a bot token (xoxb-…) cannot open "
    "Socket Mode connections",
    "missing_scope": "the app-level token lacks connections:write; add the scope to it",
    "token_revoked": "the app-level token was revoked; create a new one",
}
# The SDK's own ping interval (slack.socket_ping_interval sets it): a socket that stops answering is
# replaced within a few of them.
PING_INTERVAL_SECONDS = 5.0
# `run` waits this long at most for the first URL before it starts polling: a Slack slow to answer, or
# asking to wait (Retry-After), is asked again by the connection task in the background, not ahead of
# the feeds and of SIGTERM.
START_WAIT_SECONDS = 5.0


class SlackSocket:
    """One Socket Mode connection for this process, started and stopped with `run`."""

    def __init__(
        self,
        app_token: str,
        *,
        api_url: str,
        handle: Callable[[dict[str, Any]], Awaitable[None]],
        ping_interval: float = PING_INTERVAL_SECONDS,
        on_refused: Callable[[], None] = lambda: None,
    ):
        self.app_token = app_token
        self.api_url = api_url
        self.handle = handle
        self.ping_interval = ping_interval
        self.on_refused = on_refused  # called once, when Slack refuses the connection for good
        self.acks = 0  # envelopes acknowledged since start
        self.refusal: str | None = None  # why, once refused: nothing asks for a URL again
        self.client: SocketModeClient | None = None
        self._web = slack_web_client(api_url)
        self._connecting: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Open the connection (in the background: a Slack that does not answer yet is retried by the
        SDK); False, with the fix logged, when the token cannot work at all."""
        web = self._web
        client = _GuardedClient(self.app_token, web_client=web, logger=log, ping_interval=self.ping_interval)
        client.open_url, client.on_refused = self._open_url, self._stop_soon
        if is_loopback(urlsplit(self.api_url).hostname):
            client.proxy = None  # as for its Web API calls: the token never goes through a proxy in clear
        client.socket_mode_request_listeners.append(self._on_request)
        self.client = client
        wait = 0.0
        try:
            first = self._open_url(wait_out_rate_limits=False)
            client.wss_uri = await asyncio.wait_for(first, START_WAIT_SECONDS)
        except Refused:
            await self.stop()
            return False
        except SlackApiError as exc:  # not answering yet, or asking to wait (logged): asked again later
            if exc.response.get("error") == "ratelimited":
                wait = _retry_after(exc.response.headers.get("Retry-After"))
        except (OSError, TimeoutError, aiohttp.ClientError):
            pass  # Slack not answering yet (logged): connect() asks again
        self._connecting = asyncio.create_task(self._connect(client, wait), name="socket mode connect")
        return True

    @staticmethod
    async def _connect(client: SocketModeClient, wait: float) -> None:
        """The connection, in the background (stop() cancels it), after what Slack asked to wait."""
        if wait:
            await asyncio.sleep(wait)
        await client.connect()

    async def _open_url(self, *, wait_out_rate_limits: bool = True) -> str:
        """apps.connections.open, wherever it is asked (at start, and by the SDK on every reconnection):
        a Socket Mode URL fit to dial, or Refused (logged once, with the fix) when retrying cannot help.
        Asked to wait (ratelimited), it waits as told when `wait_out_rate_limits` (the SDK would ask
        again every ping interval), else it raises, and the caller asks again later."""
        while True:
            if self.refusal is not None:
                raise Refused(self.refusal)
            try:
                response = await self._web.apps_connections_open(app_token=self.app_token)
            except SlackApiError as exc:
                error = api_error(exc)
                if error in FIXES:
                    self._refuse(f"{error} ({FIXES[error]})")
                if error == "ratelimited":  # rare on this method (Tier 1)
                    seconds = _retry_after(exc.response.headers.get("Retry-After"))
                    _waiting(f"apps.connections.open: ratelimited; asking again in {seconds:.0f} s")
                    if not wait_out_rate_limits:
                        raise
                    await asyncio.sleep(seconds)
                    continue
                _waiting(f"apps.connections.open: {error}")
                raise
            except (OSError, TimeoutError, aiohttp.ClientError) as exc:
                _waiting(f"{type(exc).__name__}: {exc}")
                raise
            url = str(response.get("url") or "")
            if not may_dial(url, api_url=self.api_url):
                self._refuse(
                    f"apps.connections.open answered a URL that is not wss://: {mask_url(url)}; Slack "
                    "answers wss://, so slack.api_url (or $SLACK_API_URL) is not Slack's API"
                )
            return url

    def _refuse(self, reason: str) -> NoReturn:
        """The one line that says why presses are no longer received, and the buttons taken off."""
        if self.refusal is None:
            self.refusal = reason
            log_event(log, logging.ERROR, "slack.socket_mode_refused", reason=reason,
                      effect="button presses are not received; alerts carry no buttons")  # fmt: skip
            self.on_refused()
        raise Refused(reason)

    async def _on_request(self, client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        # The ack first, whatever the envelope: Slack retries (and then gives up on) one left unacknowledged.
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        self.acks += 1
        if request.type != "interactive":
            return
        try:
            await self.handle(request.payload)
        except Exception:  # one bad payload (or a store failing over) must not end the listener
            log.exception("interaction.failed envelope_id=%s", request.envelope_id)

    async def stop(self) -> None:
        """Close the connection; safe to call twice (after a refusal, and when `run` stops)."""
        client, self.client = self.client, None
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if client is not None:
            await client.close()

    def _stop_soon(self) -> None:
        """Stop from outside the SDK task that met the refusal (closing cancels that very task)."""
        if self._stopping is None:
            self._stopping = asyncio.create_task(self.stop(), name="socket mode stop")


class Refused(Exception):
    """apps.connections.open's answer is one retrying cannot fix."""


class _GuardedClient(SocketModeClient):
    """slack-sdk's client, with every request for a URL (connect, connect_to_new_endpoint, both reached
    from monitor_current_session and receive_messages) going through `open_url`.

    The SDK retries any exception from issue_new_wss_url every ping interval, forever, with two ERROR lines
    each time. A refusal ends the client instead: it is marked closed and the task that asked is
    cancelled, which every SDK loop lets through quietly (they catch Exception, not CancelledError);
    SlackSocket then closes the rest.
    """

    open_url: Callable[[], Awaitable[str]]
    on_refused: Callable[[], None]

    async def issue_new_wss_url(self) -> str:
        try:
            return await self.open_url()
        except Refused:
            self.closed, self.auto_reconnect_enabled = True, False
            self.on_refused()
            raise asyncio.CancelledError from None


def may_dial(url: str, *, api_url: str) -> bool:
    """Whether a Socket Mode URL may be dialled: wss://, or plain ws:// to a loopback host when the API
    itself is a loopback fake. The URL carries a ticket that opens the app's connection: never in clear
    over a network, and never to a host Slack would not name."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "wss" and parts.hostname:
        return True
    local = is_loopback(parts.hostname) and is_loopback(urlsplit(api_url).hostname)
    return parts.scheme.lower() == "ws" and local


def _retry_after(value: object) -> float:
    """Seconds to wait as Slack's Retry-After says: 30 when it says nothing readable, at most 5 minutes
    (an API that is not Slack's must not park the connection for good)."""
    try:
        seconds = float(str(value))
    except ValueError:
        return 30.0
    return min(max(seconds, 1.0), 300.0) if seconds == seconds else 30.0  # NaN is not a wait


def _waiting(reason: str) -> None:
    """Slack not answering (yet): the SDK retries every ping interval."""
    log_event(log, logging.WARNING, "slack.socket_mode_waiting", reason=reason)
