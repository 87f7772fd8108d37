"""The notifier protocol: Slack, the console, and whatever comes next sit behind it."""

from __future__ import annotations

from typing import Protocol

from ..models import Alert, Digest


class Notifier(Protocol):
    name: str

    async def send_alert(self, alert: Alert) -> str | None:
        """Deliver one alert; return the message id (Slack's ts) if there is one; raise NotifyError."""
        ...

    async def send_digest(self, digest: Digest) -> str | None:
        """Deliver one digest message; return its id (Slack's ts) if there is one; raise NotifyError."""
        ...

    async def send_notice(self, channel: str, text: str) -> None:
        """A plain message for operators (not an alert); raise NotifyError."""
        ...

    async def close(self) -> None: ...
