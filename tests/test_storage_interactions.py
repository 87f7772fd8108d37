"""Interactions with alert buttons in the store: recorded once whoever delivers them how often, the mutes
they make, and the feedback read back (issue 17)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from prometheus_client import generate_latest

from monitor import metrics
from monitor.service.ops import read_feedback
from monitor.storage import ArticleKey, ArticleRecord, Interaction, QueuedAlert, SQLStorage, open_storage
from tests.support.store import Store

NOW = datetime.now(UTC)


def stored_alert(storage: SQLStorage, n: int = 1) -> int:
    url = f"https://news.example/{n}"
    record = ArticleRecord("https://feeds.example/rss", f"g{n}", url, None, f"PLA filament {n}", "text",
                           NOW, NOW, f"fp{n}", "alerted", source="Mint")  # fmt: skip
    result = storage.record_article(record, [ArticleKey("url", record.url)], [QueuedAlert("#a", "{}")])
    storage.mark_alert_sent(result.outbox[0].id, ts=f"1700000000.00000{n}", at=NOW, channel_id="C1")
    return result.outbox[0].id


def press(alert_id: int, action: str, key: str, user: str = "U0AAA1") -> Interaction:
    return Interaction(key=key, at=NOW, user_id=user, team_id="T1", action=action, alert_id=alert_id,
                       watchlists=("pla", "chips"), article_id=1, story_id=1, outlet="Mint", channel="#a",
                       channel_id="C1", message_ts="1700000000.000001")  # fmt: skip


def test_a_press_is_recorded_once_with_a_row_per_watchlist_and_one_refresh(store: Store) -> None:
    storage = open_storage(store.url)
    try:
        alert = stored_alert(storage)
        assert storage.record_interaction(press(alert, "not_relevant", "k1"), at=NOW)
        assert not storage.record_interaction(press(alert, "not_relevant", "k1"), at=NOW)  # Slack's retry
        rows = store.rows("SELECT watchlist, action, user_id FROM interactions ORDER BY watchlist")
        assert [tuple(row) for row in rows] == [
            ("chips", "not_relevant", "U0AAA1"),
            ("pla", "not_relevant", "U0AAA1"),
        ]
        refresh = store.rows("SELECT parent_id, status, channel FROM alerts WHERE kind = 'refresh'")
        assert [tuple(row) for row in refresh] == [(alert, "pending", "#a")]
        [mark] = storage.alert_marks(alert)
        assert (mark.action, mark.user_id, mark.watchlists) == ("not_relevant", "U0AAA1", ("pla", "chips"))
    finally:
        storage.close()


def test_the_latest_judgement_per_alert_and_watchlist_counts(store: Store) -> None:
    storage = open_storage(store.url)
    try:
        first, second = stored_alert(storage, 1), stored_alert(storage, 2)
        storage.record_interaction(press(first, "not_relevant", "k1"), at=NOW)
        storage.record_interaction(press(first, "relevant", "k2"), at=NOW)  # a correction
        storage.record_interaction(press(second, "not_relevant", "k3"), at=NOW)
        verdicts = {(j.alert_id, j.watchlist): j.relevant for j in storage.judgements()}
        assert verdicts == {(first, "pla"): True, (first, "chips"): True,
                            (second, "pla"): False, (second, "chips"): False}  # fmt: skip
        assert storage.interaction_counts()[("not_relevant", "pla")] == 2
        assert storage.interaction_counts()[("relevant", "chips")] == 1
    finally:
        storage.close()


def test_each_persons_latest_judgement_counts_once_and_the_majority_decides(store: Store) -> None:
    """Two analysts judged relevant, a third not: relevant (the last press used to decide for everyone);
    a person correcting their judgement counts once; a tie goes to the latest press."""
    storage = open_storage(store.url)
    try:
        majority, tie = stored_alert(storage, 1), stored_alert(storage, 2)
        storage.record_interaction(press(majority, "relevant", "k1", user="U0AAA1"), at=NOW)
        storage.record_interaction(press(majority, "not_relevant", "k2", user="U0BBB2"), at=NOW)
        storage.record_interaction(press(majority, "relevant", "k3", user="U0BBB2"), at=NOW)  # corrected
        storage.record_interaction(press(majority, "not_relevant", "k4", user="U0CCC3"), at=NOW)
        storage.record_interaction(press(majority, "relevant", "k5", user="U0DDD4"), at=NOW)
        storage.record_interaction(press(majority, "not_relevant", "k6", user="U0EEE5"), at=NOW)
        storage.record_interaction(press(tie, "relevant", "k7", user="U0AAA1"), at=NOW)
        storage.record_interaction(press(tie, "not_relevant", "k8", user="U0BBB2"), at=NOW)
        verdicts = {(j.alert_id, j.watchlist): j.relevant for j in storage.judgements()}
        assert verdicts[majority, "pla"] is True  # 3 relevant (A, B corrected, D) to 2 (C, E)
        assert verdicts[tie, "pla"] is False  # 1 to 1: the latest press
    finally:
        storage.close()


def test_mutes_are_made_once_and_outlets_unmuted(store: Store) -> None:
    storage = open_storage(store.url)
    try:
        alert = stored_alert(storage)
        storage.record_interaction(press(alert, "mute_story", "k1"), at=NOW)
        storage.record_interaction(press(alert, "mute_story", "k2", user="U0BBB2"), at=NOW)  # muted already
        assert storage.story_muted(1, "#a") and not storage.story_muted(1, "#b")
        mute_outlet = press(alert, "mute_outlet", "k3")
        assert storage.record_interaction(mute_outlet, at=NOW)
        assert storage.muted_watchlists("Mint") == {"pla", "chips"}
        assert storage.muted_watchlists("Reuters") == frozenset()
        assert [(m.watchlist, m.outlet, m.muted_by) for m in storage.outlet_mutes()] == [
            ("chips", "Mint", "U0AAA1"), ("pla", "Mint", "U0AAA1")]  # fmt: skip
        assert storage.unmute_outlet("pla", "Mint") and not storage.unmute_outlet("pla", "Mint")
        assert storage.muted_watchlists("Mint") == {"chips"}
        # Muting again after an unmute is a new press, recorded and applied.
        assert storage.record_interaction(dataclasses.replace(mute_outlet, key="k4"), at=NOW)
        assert storage.muted_watchlists("Mint") == {"pla", "chips"}
    finally:
        storage.close()


def test_metrics_count_presses_and_precision_per_watchlist(store: Store) -> None:
    storage = open_storage(store.url)
    try:
        alerts = [stored_alert(storage, n) for n in (1, 2, 3)]
        storage.record_interaction(press(alerts[0], "relevant", "k1"), at=NOW)
        storage.record_interaction(press(alerts[1], "not_relevant", "k2"), at=NOW)
        storage.record_interaction(press(alerts[2], "not_relevant", "k3"), at=NOW)
        storage.record_interaction(press(alerts[2], "relevant", "k4", user="U0BBB2"), at=NOW)  # the latest
        storage.record_interaction(press(alerts[1], "mute_story", "k5"), at=NOW)
        read_feedback(storage)
    finally:
        storage.close()
    page = generate_latest(metrics.REGISTRY).decode()
    assert 'news_monitor_interactions{action="not_relevant",watchlist="pla"} 2.0' in page
    assert 'news_monitor_interactions{action="mute_story",watchlist="chips"} 1.0' in page
    assert 'news_monitor_watchlist_judged_alerts{watchlist="pla"} 3.0' in page
    assert re.search(r'news_monitor_watchlist_precision\{watchlist="pla"\} 0\.666', page)
