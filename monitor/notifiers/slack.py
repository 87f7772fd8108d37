"""SlackNotifier: chat.postMessage through slack-sdk's AsyncWebClient."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from ..errors import NotifyError
from ..models import Alert
from .slack_message import build_blocks, build_fallback_text

log = logging.getLogger(__name__)

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
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "ekm_access_denied",
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
}


class SlackNotifier:
    name = "slack"

    def __init__(self, token: str, *, api_url: str, timeout: float = 30.0):
        # The SDK's own handlers retry connection errors, 429 (honouring Retry-After) and 500/503 once each;
        # anything still failing stays in the outbox for the next cycle.
        handlers = [
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(),
            AsyncServerErrorRetryHandler(),
        ]
        self.client = AsyncWebClient(
            token=token, base_url=api_url, timeout=int(timeout), retry_handlers=handlers
        )

    async def send_alert(self, alert: Alert) -> str | None:
        try:
            response = await self.client.chat_postMessage(
                channel=alert.channel,
                text=build_fallback_text(alert),
                blocks=build_blocks(alert),
                # We show our own summary, and Slack's servers should not fetch strangers' URLs.
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            raise _notify_error(alert.channel, exc) from None
        except (TimeoutError, OSError) as exc:
            raise NotifyError(alert.channel, f"{exc.__class__.__name__}: {exc}") from None
        ts = response.get("ts")
        return str(ts) if ts is not None else None

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()


def _notify_error(channel: str, exc: SlackApiError) -> NotifyError:
    error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    permanent = error in PERMANENT_ERRORS
    reason = f"{error} ({FIXES[error]})" if error in FIXES else error
    details = exc.response.get("response_metadata", {}) or {}
    if details.get("messages"):
        reason += f": {'; '.join(details['messages'])[:500]}"
    return NotifyError(channel, reason, permanent=permanent)
