"""Edges of the buttons on alerts found by an outside review (each test failed before its fix): an outlet
muted under invisible characters, a button value of non-ASCII digits, a burst of presses on one alert,
and `check --online` trying the app-level token."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from monitor.delivery.interactions import InteractionDesk, presses_in
from monitor.storage import open_storage
from tests.support.socket_mode_fake import SocketModeFake
from tests.support.store import Store
from tests.support.world import World
from tests.test_storage_interactions import NOW, press, stored_alert
from tests.test_tune import WATCHLISTS, cli, publish


def test_an_outlet_muted_under_an_invisible_character_can_be_unmuted_as_watch_list_shows_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A feed's title (an outlet name) holding a zero-width space or a bidi control is muted from Slack
    as stored; `watch list` shows it with those characters blanked, and `watch unmute` with the name as
    shown finds nothing to unmute: the mute cannot be undone from the command line."""
    publish(world, ["printer"])
    world.write_config()
    (world.folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    assert cli(world, capsys, "once")[0] == 0
    storage = open_storage(world.store.url)
    try:
        alert = stored_alert(storage)
        muted = press(alert, "mute_outlet", "k1")
        hidden = dataclasses.replace(muted, outlet="Wire\u200bNews", watchlists=("pla-watch",))
        assert storage.record_interaction(hidden, at=NOW)
    finally:
        storage.close()
    code, out, _ = cli(world, capsys, "watch", "list")
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith("  pla-watch  ")]
    shown = line.removeprefix("  pla-watch  ").split("  (by ")[0]
    code, _, err = cli(world, capsys, "watch", "unmute", "pla-watch", shown)
    assert code == 0, err


def test_a_button_value_of_unicode_digits_is_ignored_not_a_traceback(store: Store) -> None:
    """'²'.isdigit() is True but int('²') raises: the press ends in interaction.failed with a traceback
    (and any later action of the same payload is dropped) instead of interaction.unknown_alert."""
    storage = open_storage(store.url)
    try:
        desk = InteractionDesk(storage, lambda: datetime.now(UTC))
        payload = {
            "type": "block_actions",
            "user": {"id": "U0AAA1"},
            "team": {"id": "T1"},
            "container": {"channel_id": "C1", "message_ts": "1700000000.000001"},
            "actions": [{"action_id": "news_monitor.relevant", "value": "\u00b2", "action_ts": "1.1"}],
        }
        assert desk.handle(payload) == ["ignored"]
    finally:
        storage.close()


def test_a_payload_listing_many_actions_is_one_press() -> None:
    """Slack sends one action per block_actions payload; one forged envelope listing 200 of ours made 200
    stored presses and 200 rewrites of the alert. Another app's action before ours is passed over."""
    actions = [{"action_id": "other_app.button", "value": "1", "action_ts": "0.5"}] + [
        {"action_id": "news_monitor.relevant", "value": "1", "action_ts": f"1.{n}"} for n in range(200)
    ]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0AAA1"},
        "container": {"channel_id": "C1", "message_ts": "1700000000.000001"},
        "actions": actions,
    }
    [press] = presses_in(payload)
    assert (press.action, press.action_ts) == ("relevant", "1.0")
    assert presses_in({**payload, "actions": {"news_monitor.relevant": "1"}}) == []


def test_repeated_presses_queue_one_rewrite_of_the_alert_not_one_each(store: Store) -> None:
    """Each press (a new action_ts) queues its own `refresh`; every one rewrites the alert identically and
    is paced like a post, so one analyst clicking Relevant 30 times put 30 chat.update calls (30 s at
    min_post_interval 1s) ahead of the channel's next alert (seen end to end against the fakes)."""
    storage = open_storage(store.url)
    try:
        alert = stored_alert(storage)
        for n in range(10):
            assert storage.record_interaction(press(alert, "relevant", f"k{n}"), at=NOW)
        pending = store.rows(
            "SELECT id FROM alerts WHERE kind = 'refresh' AND status = 'pending' AND parent_id = :alert",
            alert=alert,
        )
        assert len(pending) == 1
    finally:
        storage.close()


def test_check_online_tries_the_app_level_token(
    world: World, sockets: SocketModeFake, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check --online` "tries everything the configuration names" (README): an app-level token Slack
    refuses fails the check with the fix (before, every check held and only `run`'s log told)."""
    publish(world, ["printer"])
    world.app_token = world.slack.app_token
    assert world.run_cli("check", "--online") == 0
    assert "ok    buttons (app-level token from $NEWS_MONITOR_TEST_APP_TOKEN)" in capsys.readouterr().out
    world.app_token = "xapp-1-A0000001-0000-notthetoken"
    assert world.run_cli("check", "--online") != 0
    out = capsys.readouterr().out
    assert "FAIL  buttons (app-level token from $NEWS_MONITOR_TEST_APP_TOKEN)" in out
    assert "create one (xapp-…) under Basic Information" in out
    assert "notthetoken" not in out


def test_check_online_fails_a_socket_url_run_would_not_dial(
    world: World, sockets: SocketModeFake, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(world, ["printer"])
    world.app_token = world.slack.app_token
    world.slack.socket_url = lambda: "ws://203.0.113.7:80/link/?ticket=1"
    assert world.run_cli("check", "--online") != 0
    out = capsys.readouterr().out
    assert "FAIL  buttons (app-level token from $NEWS_MONITOR_TEST_APP_TOKEN)" in out
    assert "not wss://" in out and "ticket=1" not in out


def test_unmute_without_a_store_says_nothing_is_muted_and_makes_no_store(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """`watch list` and `tune` make no store to say there is nothing; `watch unmute` made one (and exited
    with an unmute of nothing)."""
    publish(world, ["printer"])  # a feed to watch; nothing is polled
    world.write_config()
    (world.folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    code, _, err = cli(world, capsys, "watch", "unmute", "pla-watch", "Wire News")
    assert code == 2
    assert "Wire News is not muted for pla-watch" in err and "none" in err
    assert world.store.tables() == set()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), ("abc", 30.0), (None, 30.0), ("1e9", 300.0), ("-3", 1.0), ("nan", 30.0), ("inf", 300.0)],
)
def test_a_rate_limited_socket_url_waits_what_retry_after_says_within_bounds(
    header: str | None, seconds: float
) -> None:
    """apps.connections.open answering `ratelimited`: int() of an unreadable Retry-After raised inside the
    SDK's reconnection loop, and a huge one parked the buttons for good."""
    from monitor.delivery.slack_socket import _retry_after

    assert _retry_after(header) == seconds
