"""The retry policy: how long a transient failure waits (Slack's Retry-After, else backoff), what it is
stored as, and which permanent errors block every later post to a token or a channel."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from ..errors import NotifyError
from .slack_health import OUTAGE_ERROR_PREFIX

# Backoff after the n-th transient failure: BASE * 2^(n-1), capped, then "equal jitter" (half fixed,
# half random) so alerts that failed together do not retry together.
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(minutes=30)
# Errors that say the token is unusable: every later post would fail the same way.
_AUTH_ERRORS = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired")
# Errors that say the channel is unusable: every alert for it would fail the same way.
_CHANNEL_ERRORS = ("channel_not_found", "not_in_channel", "is_archived")


def backoff_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the `attempt`-th consecutive transient failure (1-based)."""
    full = min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_CAP)
    rng = rng or random.Random()
    return full / 2 + full / 2 * rng.random()


def retry_delay(exc: NotifyError, attempt: int) -> timedelta:
    """Slack's Retry-After when it gave one, else the backoff after the `attempt`-th failure."""
    if exc.retry_after is not None:
        return timedelta(seconds=exc.retry_after)
    return backoff_delay(attempt)


def retry_reason(exc: NotifyError) -> str:
    """What a transient failure is stored as: an outage is Slack's condition, not the alert's, and is
    marked so (its backoff ends when Slack answers again)."""
    if exc.outage is None:
        return exc.reason
    detail = f" ({exc.reason})" if exc.reason != exc.outage else ""
    return f"{OUTAGE_ERROR_PREFIX}{exc.outage}{detail}"


@dataclass
class Blocks:
    """What this process has learnt must not be tried again until the configuration changes."""

    auth: str | None = None
    channels: dict[str, str] = field(default_factory=dict)

    def blocked(self, channel: str) -> str | None:
        """Why every post to the channel would fail now (a bad token, a missing channel), if it would."""
        return self.auth or self.channels.get(channel)

    def remember(self, channel: str, exc: NotifyError) -> None:
        """A permanent error that every later post to the token (or the channel) would meet too."""
        code = exc.reason.split(" ", 1)[0]
        if code in _AUTH_ERRORS:
            self.auth = exc.reason
        elif code in _CHANNEL_ERRORS:
            self.channels[channel] = exc.reason
