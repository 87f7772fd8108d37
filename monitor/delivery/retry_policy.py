"""The retry policy: how long a transient failure waits, and which errors block a token or a channel."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

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


@dataclass
class _Blocks:
    """What this process has learnt must not be tried again until the configuration changes."""

    auth: str | None = None
    channels: dict[str, str] = field(default_factory=dict)
