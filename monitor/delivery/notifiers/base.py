"""The notifier protocol: Slack, the console, and whatever comes next sit behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ...models import Alert, AlertControls, Digest, StoryReply


@dataclass(frozen=True)
class Posted:
    """Where a message landed: Slack's ts, and the channel's ID (chat.update accepts no channel name)."""

    ts: str
    channel_id: str | None = None


class Notifier(Protocol):
    name: str

    async def send_alert(self, alert: Alert, controls: AlertControls | None = None) -> Posted | None:
        """Deliver one alert (with its buttons, where the notifier has them); return where it landed, if
        the notifier can tell; raise NotifyError."""
        ...

    async def send_reply(self, reply: StoryReply, parent: Posted | None) -> Posted | None:
        """Post another outlet's report in the thread of the story's alert; raise NotifyError."""
        ...

    async def update_alert(
        self, alert: Alert, parent: Posted, outlets: list[str], controls: AlertControls | None = None
    ) -> None:
        """Rewrite the story's alert: the outlets that carry it, what was done with its buttons; raise
        NotifyError."""
        ...

    async def send_digest(self, digest: Digest) -> str | None:
        """Deliver one digest message; return its id (Slack's ts) if there is one; raise NotifyError."""
        ...

    async def send_notice(self, channel: str, text: str) -> None:
        """A plain message for operators (not an alert); raise NotifyError."""
        ...

    async def probe(self) -> None:
        """A cheap call that proves the service answers (after an outage); raise NotifyError."""
        ...

    async def close(self) -> None: ...
