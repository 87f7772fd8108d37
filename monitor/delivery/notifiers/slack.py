"""SlackNotifier: chat.postMessage through slack-sdk's AsyncWebClient."""

from __future__ import annotations

import dataclasses
import errno
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from ...address_policy import is_loopback
from ...errors import ConfigError, NotifyError
from ...http.client import parse_retry_after
from ...logs import log_event
from ...models import Alert, AlertControls, Digest, StoryReply
from ...redact import mask_configured_url, sends_secrets_in_clear
from .base import Posted
from .slack_digest import digest_message
from .slack_message import SlackMessage, alert_message, notice_message, posted_time, reply_message

log = logging.getLogger("monitor.notifiers.slack")  # its log lines name it so, as before the move

# Errors that retrying the same request cannot fix: the configuration or the payload must change
# (../shared/SLACK.md §5). Everything else is treated as transient and the alert stays in the outbox.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "team_not_found",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "ekm_access_denied",
        # A reply or chat.update: the story's alert was deleted, is too old, or is not ours to edit.
        "thread_not_found",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)
# What to tell the operator for the permanent errors they can fix.
FIXES = {
    "channel_not_found": "check the channel name in watchlists.yaml / slack.default_channel",
    "not_in_channel": "invite the bot (/invite @news-monitor) or give it the chat:write.public scope",
    "is_archived": "the channel is archived; route the watchlist to another channel",
    "invalid_auth": "the bot token is invalid; check the environment variable named by slack.token_env",
    "not_authed": "no bot token was sent; set the environment variable named by slack.token_env",
    "token_revoked": "the bot token was revoked; reinstall the Slack app and update the token",
    "account_inactive": "the bot token belongs to a deleted app or workspace; reinstall the Slack app",
    "missing_scope": "the bot token lacks the chat:write scope; add it and reinstall the app",
    "thread_not_found": "the story's alert is no longer in Slack (deleted?): its thread takes no replies",
}


# Errors that say Slack's service failed, not this request (SLACK.md §5): like a refused connection or a
# 5xx, they are a condition of Slack that the outbox waits out as a whole (delivery/outbox.py, SlackHealth).
OUTAGE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})

RATE_LIMITED_PAUSE_SECONDS = 300.0


def slack_web_client(api_url: str, *, token: str | None = None, timeout: int = 30) -> AsyncWebClient:
    """slack-sdk's Web API client for `api_url`, retrying nothing itself (the outbox and the Socket Mode
    connection decide what is retried).

    The SDK sends every call through $HTTPS_PROXY / $HTTP_PROXY when set (it ignores NO_PROXY). The
    environment is trusted, so a proxy is used for a remote (https) API: the token then stays inside the
    TLS tunnel the proxy relays. A loopback API is reached directly: through a proxy, the token of a
    plain-http call would leave the machine in clear."""
    client = AsyncWebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=[])
    if is_loopback(urlsplit(api_url).hostname):
        client.proxy = None
    return client


class SlackNotifier:
    name = "slack"

    def __init__(self, token: str, *, api_url: str, timeout: float = 30.0, interactive: bool = False):
        if sends_secrets_in_clear(api_url):
            # config/ refuses it first, with the file and line; this holds for any other caller.
            raise ConfigError(
                f"the Slack API URL {mask_configured_url(api_url)} is plain http to a host that is not this "
                "machine: the bot token would travel unencrypted. Use https:// (plain http is accepted "
                "only to a loopback address such as 127.0.0.1, for a local fake)",
                key="slack.api_url",
            )
        # No SDK retry handlers: the outbox retries with backoff across restarts, and its 429 handling
        # pauses one channel instead of sleeping inside a call (the SDK's 429 sleep has no cap).
        self.client = slack_web_client(api_url, token=token, timeout=int(timeout))
        # Buttons only when something listens for them (Socket Mode, with the app token): never a dead one.
        self.interactive = interactive
        self._choose_proxy(api_url)

    def _choose_proxy(self, api_url: str) -> None:
        """Say which proxy, if any, the token goes through (slack_web_client chose it)."""
        if self.client.proxy:
            log_event(log, logging.INFO, "slack.proxy", proxy=mask_configured_url(self.client.proxy),
                      note="from the environment; the token stays inside TLS")  # fmt: skip

    # Every message is built by slack_message.py (digests laid out by slack_digest.py from its pieces), and
    # every call passes its api_args: text, blocks, parse none, no link names, no unfurling.

    async def send_alert(self, alert: Alert, controls: AlertControls | None = None) -> Posted | None:
        message = alert_message(alert, controls=self._shown(controls))
        return _posted(await self._post_with_text_fallback(alert.channel, message))

    async def send_reply(self, reply: StoryReply, parent: Posted | None) -> Posted | None:
        if parent is None:
            raise NotifyError(reply.channel, "the story's alert has no Slack ts to reply to", permanent=True)
        response = await self._call(
            reply.channel,
            self.client.chat_postMessage,
            channel=parent.channel_id or reply.channel,
            thread_ts=parent.ts,
            reply_broadcast=reply.broadcast,
            **reply_message(reply).api_args(),
        )
        return _posted(response)

    async def update_alert(
        self, alert: Alert, parent: Posted, outlets: list[str], controls: AlertControls | None = None
    ) -> None:
        if parent.channel_id is None:
            return  # chat.update needs the channel's ID; a message posted before IDs were kept stays as is
        await self._call(
            alert.channel,
            self.client.chat_update,
            channel=parent.channel_id,
            ts=parent.ts,
            # On chat.update, parse defaults to `client` (it would turn "@channel" in a hostile title into a
            # mention), unlike chat.postMessage: SLACK.md 1.3 says to pass parse and link_names every time.
            # Its age is counted to when it was posted, as the first version said.
            **alert_message(
                alert, outlets, posted_at=posted_time(parent.ts), controls=self._shown(controls)
            ).api_args(),
        )

    def _shown(self, controls: AlertControls | None) -> AlertControls | None:
        """The buttons only while presses are received; the marks already made always (a rewrite by
        `once`, or after the token was refused, must not erase them)."""
        if controls is None or self.interactive:
            return controls
        return dataclasses.replace(controls, buttons=False)

    async def _call(self, for_channel: str, method: Any, **kwargs: Any) -> AsyncSlackResponse:
        """One Web API call, its failures turned into NotifyError (permanent or not, with Retry-After)."""
        try:
            response: AsyncSlackResponse = await method(**kwargs)
            return response
        except SlackApiError as exc:
            raise _notify_error(for_channel, exc) from None
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise _connection_error(for_channel, exc) from None

    async def probe(self) -> None:
        """auth.test: the cheapest call that proves Slack answers (Tier 4); raises NotifyError."""
        await self._call("", self.client.auth_test)

    async def send_notice(self, channel: str, text: str) -> None:
        await self._call(
            channel, self.client.chat_postMessage, channel=channel, **notice_message(text).api_args()
        )

    async def send_digest(self, digest: Digest) -> str | None:
        """One message listing the digest's stories; if Slack refuses the blocks, the plain text alone."""
        response = await self._post_with_text_fallback(digest.channel, digest_message(digest))
        ts = response.get("ts")
        return str(ts) if ts is not None else None

    async def _post_with_text_fallback(self, channel: str, message: SlackMessage) -> AsyncSlackResponse:
        """chat.postMessage with blocks; when Slack refuses the blocks nothing was posted, and the plain
        text alone still carries the message (SLACK.md §5)."""
        try:
            return await self._post_message(channel, message, with_blocks=True)
        except SlackApiError as exc:
            error = _notify_error(channel, exc)
            if not _is_block_error(exc):
                raise error from None
            log_event(log, logging.WARNING, "slack.blocks_refused", channel=channel, reason=error.reason,
                      fallback="text")  # fmt: skip
        try:
            return await self._post_message(channel, message, with_blocks=False)
        except SlackApiError as exc:
            raise _notify_error(channel, exc) from None

    async def _post_message(
        self, channel: str, message: SlackMessage, *, with_blocks: bool
    ) -> AsyncSlackResponse:
        try:
            # api_args turns unfurling off: we show our own summary, and Slack's servers should not fetch
            # strangers' URLs.
            return await self.client.chat_postMessage(
                channel=channel, **message.api_args(with_blocks=with_blocks)
            )
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            # The outcome is unknown (the post may have landed): the outbox retries, which is the one
            # documented duplicate window.
            raise _connection_error(channel, exc) from None

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()


def api_error(exc: SlackApiError) -> str:
    """What Slack said went wrong (`invalid_auth`, `ratelimited`…), or the HTTP status if it said nothing."""
    return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")


def _notify_error(channel: str, exc: SlackApiError) -> NotifyError:
    error = api_error(exc)
    permanent = error in PERMANENT_ERRORS
    reason = f"{error} ({FIXES[error]})" if error in FIXES else error
    details = exc.response.get("response_metadata", {}) or {}
    if details.get("messages"):
        reason += f": {'; '.join(details['messages'])[:500]}"
    retry_after = None
    if error == "rate_limited":
        # "Application has posted too many messages" (SLACK.md §5): back off minutes, not seconds.
        retry_after = RATE_LIMITED_PAUSE_SECONDS
    if exc.response.status_code == 429:
        headers = {key.lower(): value for key, value in (exc.response.headers or {}).items()}
        retry_after = parse_retry_after(_first(headers.get("retry-after"))) or 1.0
    outage = None
    if exc.response.status_code >= 500:
        outage = f"HTTP {exc.response.status_code}"
    elif error in OUTAGE_ERRORS:
        outage = error
    return NotifyError(channel, reason, permanent=permanent, retry_after=retry_after, outage=outage)


def _connection_error(channel: str, exc: BaseException) -> NotifyError:
    """No answer from Slack: an outage of Slack (or of the way to it), whatever the alert."""
    reason = f"{exc.__class__.__name__}: {exc}".rstrip(": ")
    return NotifyError(channel, reason, outage=connection_problem(exc))


def connection_problem(exc: BaseException) -> str:
    """What went wrong on the way to Slack, in the words an operator would use."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS lookup failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        refused = exc.os_error.errno == errno.ECONNREFUSED
        return "connection refused" if refused else "cannot connect"
    if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
        return "timed out"
    if isinstance(exc, aiohttp.ServerDisconnectedError | ConnectionResetError):
        return "connection dropped"
    return "connection failed"


def _posted(response: AsyncSlackResponse) -> Posted | None:
    ts = response.get("ts")
    channel = response.get("channel")
    return Posted(ts=str(ts), channel_id=str(channel) if channel else None) if ts is not None else None


def _first(value: Any) -> str | None:
    """Header values come as a string or a list of strings, depending on the SDK's HTTP layer."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return str(value) if value is not None else None


def _is_block_error(exc: SlackApiError) -> bool:
    return exc.response.get("error") in ("invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long")
