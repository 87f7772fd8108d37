"""`preview` and `backfill` end to end: local feed server, real SQLite, the Slack fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli.main import main
from tests.support.feeds import rss_feed
from tests.support.slack_fake import SlackFake
from tests.support.store import Store
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago


def page(company: str) -> str:
    return (
        "<html><body><article>" + f"<p>{company} told investors about its plans for next year today.</p>" * 4
    )


@pytest.fixture
def world(tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store) -> Iterator[World]:
    world = World(tmp_path, web_server, slack_fake, store)
    items = [
        {
            "title": f"{company} news",
            "link": web_server.add(f"/{company}.html", page(company)),
            "guid": company,
            "pub_date": hours_ago(2),
        }
        for company in ("Huawei", "Tencent", "Alibaba")
    ]
    world.add_feed("/feed.xml", rss_feed("F", items), name="Desk")
    world.watchlists = [
        {"name": "huawei", "channel": "#china-tech", "terms": ["Huawei"]},
        {"name": "alibaba", "channel": "#china-tech", "terms": ["Alibaba"]},
    ]
    world.once()
    assert sorted(m["text"].split(" (")[0] for m in slack_fake.messages()) == ["Alibaba news", "Huawei news"]
    # The analyst's edit: Alibaba out, Tencent in.
    world.watchlists = [
        {"name": "huawei", "channel": "#china-tech", "terms": ["Huawei"]},
        {"name": "tencent", "channel": "#china-tech", "terms": ["Tencent"]},
    ]
    yield world


def preview_json(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    capsys.readouterr()
    assert world.run_cli("preview", "--json", *args) == 0
    return {row["title"]: row["verdict"] for row in json.loads(capsys.readouterr().out)}


def test_preview_shows_the_effect_of_an_edit(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert preview_json(world, capsys) == {
        "Huawei news": "alerted",
        "Tencent news": "new",
        "Alibaba news": "no longer matches",
    }
    assert preview_json(world, capsys, "tencent") == {"Tencent news": "new"}
    assert world.run_cli("preview") == 0
    assert "1 new · 1 alerted and still matching · 1 no longer match" in capsys.readouterr().out
    assert len(world.slack.messages()) == 2  # preview never posts


def test_preview_of_an_unknown_watchlist(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert world.run_cli("preview", "tencnet") == 2
    assert "no watchlist named 'tencnet'" in capsys.readouterr().err


def test_backfill_posts_only_what_was_never_alerted(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert world.run_cli("backfill", "--since", "24h") == 0
    assert "1 article(s) queued and sent" in capsys.readouterr().out
    titles = [m["text"].split(" (")[0] for m in world.slack.messages()]
    assert titles[2:] == ["Backfilled: Tencent news"] and len(titles) == 3  # it says it came late
    assert world.run_cli("backfill", "--since", "24h") == 0  # again: nothing twice
    assert len(world.slack.messages()) == 3
    assert preview_json(world, capsys)["Tencent news"] == "alerted"


def test_backfill_respects_max_age(world: World) -> None:
    world.settings["poll"] = {"max_age": "1h"}  # the stored articles are 2 hours old
    assert world.run_cli("backfill", "--since", "24h") == 0
    assert len(world.slack.messages()) == 2


def test_bad_durations_are_usage_errors(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        world.run_cli("backfill", "--since", "yesterday")
    assert caught.value.code == 2
    assert "expected a duration such as 30s" in capsys.readouterr().err


def test_a_term_added_with_watch_alerts_on_the_next_cycle(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.watchlists = [{"name": "huawei", "channel": "#china-tech", "terms": ["Huawei"]}]
    world.write_config()
    link = world.web.add("/xiaomi.html", page("Xiaomi"))
    items = [{"title": "Xiaomi news", "link": link, "guid": "xiaomi", "pub_date": hours_ago(0.1)}]
    world.web.add("/feed.xml", rss_feed("F", items), content_type="application/rss+xml")
    config = str(world.config_path)
    assert main(["--config", config, "watch", "add", "huawei", "Xiaomi", "--alias", "小米"]) == 0
    assert "{term: Xiaomi, aliases: [小米]}" in (world.folder / "watchlists.yaml").read_text(encoding="utf-8")
    # run the cycle on the edited files as they are (not rewritten by the World helper)
    env = world.environment()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert main(["--config", config, "once"]) == 0
    assert [m["text"].split(" (")[0] for m in world.slack.messages()][-1] == "Xiaomi news"


def test_a_query_watchlist_alerts_end_to_end(world: World) -> None:
    link = world.web.add("/drill.html", page("Tencent and the PLA"))
    items = [{"title": "Drills", "link": link, "guid": "drill", "pub_date": hours_ago(0.1)}]
    world.web.add("/feed.xml", rss_feed("F", items), content_type="application/rss+xml")
    world.watchlists = [
        {
            "name": "tencent-military",
            "channel": "#china-tech",
            "terms": [{"term": "PLA", "case_sensitive": True}],
            "query": "Tencent NEAR/3 PLA NOT title:weather",
        }
    ]
    world.once()
    [message] = [m for m in world.slack.messages() if m["text"].startswith("Drills")]
    assert "tencent-military" in message["blocks"][3]["elements"][0]["text"]
