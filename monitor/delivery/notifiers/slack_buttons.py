"""An alert's buttons (one `actions` block) and the line saying what was done with them; a part of the
one message builder (slack_message.py builds every alert with them).

The action ids are a contract (issue 17): Slack sends them back in each interaction, and the handler
(delivery/interactions.py) reads the action from them. Each button's `value` is the alert's outbox id,
nothing else: small, and checked against the store (the message it came from must be that alert's) before
anything is done. Labels are `plain_text` (Slack parses nothing in them); the outlet and watchlist names in
them are untrusted, so they are cleaned and cut like every other name.
"""

from __future__ import annotations

import re
from typing import Any

from ...models import Alert, AlertControls, AlertMark
from .slack_pieces import Markup, Piece, Text, context, joined
from .slack_text import ELLIPSIS, OUTLET_LIMIT, clean

ACTION_IDS = {
    "relevant": "news_monitor.relevant",
    "not_relevant": "news_monitor.not_relevant",
    "mute_story": "news_monitor.mute_story",
    "mute_outlet": "news_monitor.mute_outlet",
}
ACTIONS_BY_ID = {action_id: action for action, action_id in ACTION_IDS.items()}
# Slack's limits (block-elements/button, composition-objects/confirmation-dialog).
BUTTON_TEXT_LIMIT = 75
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
# A Slack user ID as Slack sends it (U… or W… in Enterprise Grid): anything else is not written as <@…>.
USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
MARKS_SHOWN = 8  # the latest; more would crowd the alert (a context block takes at most 10 elements)


def actions_block(alert: Alert, controls: AlertControls) -> dict[str, Any]:
    """Relevant, Not relevant, Mute story, and "Mute <outlet> for <watchlist>" (with a confirm dialog;
    left out when the outlet has no name, there being nothing to mute)."""
    value = str(controls.alert_id)
    buttons = [
        _button("relevant", "Relevant", value),
        _button("not_relevant", "Not relevant", value),
        _button("mute_story", "Mute story", value),
    ]
    if alert.source:
        buttons.append(_mute_outlet_button(alert, value))
    return {"type": "actions", "elements": buttons}


def marks_block(marks: tuple[AlertMark, ...]) -> dict[str, Any] | None:
    """ "Marked not relevant by <@U…> · Story muted by <@U…>": each person's latest judgement and each
    mute, the latest MARKS_SHOWN of them; None when nothing was done yet."""
    shown = _latest(marks)[-MARKS_SHOWN:]
    if not shown:
        return None
    pieces: list[Piece] = []
    for index, mark in enumerate(shown):
        pieces += [Markup(" · " if index else ""), *_mark_line(mark)]
    return context(*pieces)


def mute_outlet_label(outlet: str, watchlists: tuple[str, ...]) -> str:
    """ "Mute Reuters for chips", within a button's 75 characters."""
    return _cut(f"Mute {_cut(clean(outlet), 35)} for {clean(', '.join(watchlists))}", BUTTON_TEXT_LIMIT)


def _button(action: str, label: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": ACTION_IDS[action],
        "text": _plain(label),
        "value": value,
    }


def _mute_outlet_button(alert: Alert, value: str) -> dict[str, Any]:
    outlet, names = clean(alert.source), clean(", ".join(alert.watchlists))
    button = _button("mute_outlet", mute_outlet_label(alert.source, alert.watchlists), value)
    button["confirm"] = {
        "title": _plain(_cut(f"Mute {outlet}?", CONFIRM_TITLE_LIMIT)),
        "text": _plain(
            _cut(
                f"Articles from {outlet} will no longer alert for {names}, in any channel, until an "
                f"operator runs: news-monitor watch unmute",
                CONFIRM_TEXT_LIMIT,
            )
        ),
        "confirm": _plain("Mute"),
        "deny": _plain("Cancel"),
    }
    return button


def _latest(marks: tuple[AlertMark, ...]) -> list[AlertMark]:
    """Each person's last judgement (relevant or not: a second click corrects the first) and every mute
    once, in the order they happened."""
    kept: dict[tuple[str, ...], int] = {}
    for index, mark in enumerate(marks):
        if mark.action in ("relevant", "not_relevant"):
            kept[("judged", mark.user_id)] = index
        else:
            kept.setdefault((mark.action, mark.outlet, *mark.watchlists), index)
    return [marks[index] for index in sorted(kept.values())]


def _mark_line(mark: AlertMark) -> list[Piece]:
    who = Markup(f"<@{mark.user_id}>" if USER_ID.fullmatch(mark.user_id) else "someone")
    if mark.action == "relevant":
        return [Markup("Marked relevant by "), who]
    if mark.action == "not_relevant":
        return [Markup("Marked not relevant by "), who]
    if mark.action == "mute_story":
        return [Markup("Story muted by "), who]
    return [
        Text(mark.outlet, OUTLET_LIMIT),
        Markup(" muted for "),
        *joined(mark.watchlists, 100),
        Markup(" by "),
        who,
    ]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
