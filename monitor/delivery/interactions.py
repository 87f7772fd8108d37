"""Presses of an alert's buttons, as Slack delivers them over Socket Mode (slack_socket.py): checked against
the store, recorded once, answered by rewriting the alert through the outbox.

A `block_actions` payload is untrusted until the store vouches for it: its button's value must name an
alert (an outbox entry of kind `alert`) that was posted as the very message the press came from (the
same channel ID and ts). A value naming anything else, another workspace's message or a made-up id, is
logged and ignored. What a press does (storage/interactions.py): it is stored with who, when, which alert,
its watchlists, article, story, outlet and message, under a key that is the same for Slack's retries of
one press (who, which button, which alert, Slack's action_ts); the mute it asks for is made and a
`refresh` of the alert queued in the same transaction. A second delivery finds the key and changes
nothing, on this instance or another.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..logs import log_event
from ..models import Alert
from ..storage import Interaction, OutboxEntry, Storage
from .notifiers.slack_buttons import ACTIONS_BY_ID, USER_ID

log = logging.getLogger("monitor.interactions")

MAX_VALUE_DIGITS = 18  # an outbox id; a longer value is not one of ours


@dataclass(frozen=True)
class Press:
    """One button press as Slack describes it: not yet checked against the store."""

    action: str
    value: str
    user_id: str
    team_id: str | None
    channel_id: str
    message_ts: str
    action_ts: str


class InteractionDesk:
    """Turns `block_actions` payloads into recorded interactions; one per process."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime]):
        self.storage = storage
        self.clock = clock

    def handle(self, payload: dict[str, Any]) -> list[str]:
        """What became of each of the payload's button presses: recorded, repeated or ignored."""
        return [self._handle_press(press) for press in presses_in(payload)]

    def _handle_press(self, press: Press) -> str:
        entry = self._alert_pressed(press)
        if entry is None:
            log_event(log, logging.WARNING, "interaction.unknown_alert", value=press.value[:40],
                      channel_id=press.channel_id, message_ts=press.message_ts, user=press.user_id,
                      note="the button's value names no alert posted as that message; ignored")  # fmt: skip
            return "ignored"
        interaction = self._interaction(press, entry)
        if not self.storage.record_interaction(interaction, at=self.clock()):
            log_event(log, logging.INFO, "interaction.repeated", action=press.action, alert_id=entry.id,
                      user=press.user_id)  # fmt: skip
            return "repeated"
        log_event(log, logging.INFO, "interaction.recorded", action=press.action, alert_id=entry.id,
                  user=press.user_id, watchlists=",".join(interaction.watchlists),
                  channel=entry.channel)  # fmt: skip
        return "recorded"

    def _alert_pressed(self, press: Press) -> OutboxEntry | None:
        """The alert the value names, if the press came from the message that alert was posted as."""
        if not (press.value.isascii() and press.value.isdigit()) or len(press.value) > MAX_VALUE_DIGITS:
            return None
        entry = self.storage.outbox_entry(int(press.value))
        if entry is None or entry.kind != "alert" or entry.ts is None:
            return None
        if (entry.channel_id, entry.ts) != (press.channel_id, press.message_ts):
            return None
        return entry

    def _interaction(self, press: Press, entry: OutboxEntry) -> Interaction:
        alert = Alert.from_json(entry.payload, article_id=entry.article_id)
        return Interaction(
            key=press_key(press),
            at=_when(press.action_ts) or self.clock(),
            user_id=press.user_id,
            team_id=press.team_id,
            action=press.action,
            alert_id=entry.id,
            watchlists=alert.watchlists,
            article_id=entry.article_id,
            story_id=entry.story_id,
            outlet=alert.source,
            channel=entry.channel,
            channel_id=press.channel_id,
            message_ts=press.message_ts,
        )


def presses_in(payload: dict[str, Any]) -> list[Press]:
    """The press of our button in a `block_actions` payload (its first action of ours); anything else
    (another app's button, a payload missing what Slack always sends) yields none."""
    if payload.get("type") != "block_actions":
        return []
    user = _dict(payload.get("user"))
    container = _dict(payload.get("container"))
    user_id, channel_id = _text(user.get("id")), _text(container.get("channel_id"))
    message_ts = _text(container.get("message_ts"))
    if not (USER_ID.fullmatch(user_id) and channel_id and message_ts):
        log_event(log, logging.WARNING, "interaction.malformed", note="no user, channel or message; ignored")
        return []
    team_id = _text(_dict(payload.get("team")).get("id")) or _text(user.get("team_id")) or None
    actions = payload.get("actions")
    for action in actions if isinstance(actions, list) else []:
        action = _dict(action)
        name = ACTIONS_BY_ID.get(_text(action.get("action_id")))
        if name is not None:
            # A press is one action (Slack sends one per payload): a payload listing 200 would make 200
            # stored presses and 200 rewrites from one envelope.
            return [Press(name, _text(action.get("value")), user_id, team_id, channel_id, message_ts,
                          _text(action.get("action_ts")))]  # fmt: skip
    return []


def press_key(press: Press) -> str:
    """The same for every delivery of one press, different for every press."""
    parts = (press.team_id or "", press.user_id, press.action, press.value, press.message_ts, press.action_ts)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _when(action_ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(action_ts), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
