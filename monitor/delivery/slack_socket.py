"""Socket Mode: Slack sends button presses over a WebSocket `run` opens, so no public endpoint is needed.

slack-sdk's aiohttp client does the protocol: `apps.connections.open` with the app-level token (on the
same API base URL as every other call, so SLACK_API_URL points it at a local fake), the WebSocket, pings,
and a new connection when Slack says `disconnect`, closes the socket, or stops answering pings. Each
envelope is acknowledged first (Slack wants the ack within 3 s, and then does not retry), then handed to
`handle`, which does the store work in a worker thread: a busy event loop or a slow store never delays
an ack behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from ..address_policy import is_loopback
from ..logs import log_event

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


class SlackSocket:
    """One Socket Mode connection for this process, started and stopped with `run`."""

    def __init__(
        self,
        app_token: str,
        *,
        api_url: str,
        handle: Callable[[dict[str, Any]], Awaitable[None]],
        ping_interval: float = PING_INTERVAL_SECONDS,
    ):
        self.app_token = app_token
        self.api_url = api_url
        self.handle = handle
        self.ping_interval = ping_interval
        self.acks = 0  # envelopes acknowledged since start
        self.client: SocketModeClient | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Open the connection (in the background: a Slack that does not answer yet is retried by the
        SDK); False, with the fix logged, when the token cannot work at all."""
        web = AsyncWebClient(base_url=self.api_url, retry_handlers=[])
        client = SocketModeClient(
            self.app_token, web_client=web, logger=log, ping_interval=self.ping_interval
        )
        if is_loopback(urlsplit(self.api_url).hostname):
            client.proxy = web.proxy = None  # a local fake: the token must not go through a proxy in clear
        client.socket_mode_request_listeners.append(self._on_request)
        self.client = client
        try:
            client.wss_uri = await client.issue_new_wss_url()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if error in FIXES:
                log_event(log, logging.ERROR, "slack.socket_mode_refused", reason=f"{error} ({FIXES[error]})",
                          effect="button presses are not received")  # fmt: skip
                await self.stop()
                return False
        except (OSError, TimeoutError) as exc:  # Slack not answering yet: connect() retries
            log_event(
                log, logging.WARNING, "slack.socket_mode_waiting", reason=f"{type(exc).__name__}: {exc}"
            )
        self._connecting = asyncio.create_task(client.connect(), name="socket mode connect")
        return True

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
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if self.client is not None:
            await self.client.close()
            self.client = None
