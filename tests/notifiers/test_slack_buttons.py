"""An alert's buttons and the line saying what was done with them (issue 17): ids and labels are a
contract."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.delivery.notifiers.slack_message import alert_message
from monitor.models import Alert, AlertControls, AlertMark, Article
from tests.support.slack_fake import validate_blocks


def alert(source: str = "Reuters", watchlists: tuple[str, ...] = ("chips",)) -> Alert:
    article = Article(url="https://news.example/a", title="TSMC expands", text="",
                      published=datetime(2026, 11, 15, 14, 53, tzinfo=UTC))  # fmt: skip
    return Alert(channel="#chips", article=article, source=source, summary="It said so.",
                 watchlists=watchlists, terms=("TSMC",))  # fmt: skip


def actions(blocks: list[dict]) -> list[dict]:
    return [block for block in blocks if block["type"] == "actions"]


def test_four_buttons_with_fixed_action_ids_labels_and_the_alert_id_as_value() -> None:
    blocks = alert_message(alert(), controls=AlertControls(alert_id=42)).blocks or []
    [block] = actions(blocks)
    buttons = block["elements"]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("news_monitor.relevant", "Relevant"),
        ("news_monitor.not_relevant", "Not relevant"),
        ("news_monitor.mute_story", "Mute story"),
        ("news_monitor.mute_outlet", "Mute Reuters for chips"),
    ]
    assert {b["value"] for b in buttons} == {"42"}
    assert [b["text"]["type"] for b in buttons] == ["plain_text"] * 4
    confirm = buttons[3]["confirm"]
    assert confirm["title"]["text"] == "Mute Reuters?"
    assert "no longer alert for chips" in confirm["text"]["text"]
    assert [b for b in buttons[:3] if "confirm" in b] == []
    assert validate_blocks(blocks) == []


def test_no_controls_no_actions_block() -> None:
    assert actions(alert_message(alert()).blocks or []) == []


def test_long_hostile_names_fit_a_button() -> None:
    hostile = alert(source="<!channel> " + "R" * 200, watchlists=("w" * 300, "other"))
    blocks = alert_message(hostile, controls=AlertControls(alert_id=1)).blocks or []
    label = actions(blocks)[0]["elements"][3]["text"]["text"]
    assert len(label) <= 75 and label.startswith("Mute <!channel> RRR") and label.endswith("…")
    assert validate_blocks(blocks) == []


def test_marks_show_each_persons_latest_judgement_and_each_mute() -> None:
    marks = (
        AlertMark("relevant", "U0AAA1"),
        AlertMark("not_relevant", "U0BBB2"),
        AlertMark("not_relevant", "U0AAA1"),  # changed their mind: only this one shows
        AlertMark("mute_story", "U0BBB2"),
        AlertMark("mute_outlet", "U0BBB2", outlet="Re<ters", watchlists=("chips", "semis")),
        AlertMark("mute_story", "U0CCC3"),  # the story was muted already: shown once
        AlertMark("relevant", "bogus<!here>"),  # not a user ID: never written as <@…>
    )
    blocks = alert_message(alert(), controls=AlertControls(alert_id=7, marks=marks)).blocks or []
    line = blocks[-2]["elements"][0]["text"]
    assert line == (
        "Marked not relevant by <@U0BBB2> · Marked not relevant by <@U0AAA1> · Story muted by <@U0BBB2> · "
        "Re&lt;ters muted for chips, semis by <@U0BBB2> · Marked relevant by someone"
    )
    assert blocks[-1]["type"] == "actions"
    assert "<!here>" not in repr(blocks)
