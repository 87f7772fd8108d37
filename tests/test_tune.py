"""`news-monitor tune` (issue 17 §3): feedback from the buttons on alerts turned into a watchlist edit.

Articles are polled by the real `once` from local feeds and alerted into the Slack fake; the verdicts are
recorded through the storage API the button handler uses (tests/test_interactions.py presses the real
buttons). Three 3D-printing articles alerted for "PLA" are judged not relevant, one on the army relevant.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.cli.main import main
from monitor.config import load_config
from monitor.storage import open_storage
from monitor.storage.records import Interaction
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

WATCHLISTS = """\
watchlists:
  # The army, not the plastic: tune learns which is which from the buttons.
  - name: pla-watch
    channel: "#china-tech"
    terms:
      - PLA  # the People's Liberation Army
      - Alibaba
"""
ARTICLES = {
    "printer": (
        "A desktop printer review",
        "The new printer handles PLA filament without a heated enclosure. Reviewers printed a dozen "
        "brackets over a week and measured each one. Its nozzle clogged once during the long test.",
    ),
    "recycling": (
        "A recycling startup in Lyon",
        "The startup grinds old PLA filament spools into pellets for new prints. Its founders met at an "
        "engineering school and raised money from a regional fund this spring.",
    ),
    "school": (
        "Pupils learn design at a summer workshop",
        "Each pupil received a roll of PLA filament and a design brief for a small toy. Teachers said the "
        "workshop would return next year with more places for pupils from nearby villages.",
    ),
    "drills": (
        "Drills near the strait",
        "The PLA held naval drills near the strait on Tuesday, its eastern command said. Analysts watched "
        "destroyers and supply ships sail in formation for several hours before they turned back.",
    ),
}
ARTICLES["spools"] = (
    "Spool prices fall",
    "Prices of PLA filament fell again this month as two factories opened. Hobbyists stocked up on "
    "colours that had been scarce, and shops cut the price of starter kits for beginners.",
)
NOT_RELEVANT = ("printer", "recycling", "school")
# For NEAR: Alibaba and the PLA close together when the article is about them (2 and 7 words between),
# far apart when it is about a marketplace that also sells PLA filament (more than 20 words between).
ARTICLES.update(
    {
        "servers": (
            "Cloud contracts under scrutiny",
            "Investigators found that Alibaba servers hosted PLA logistics software for two years. The "
            "contracts were signed through a reseller in Shenzhen, according to the filings.",
        ),
        "chips": (
            "A denial from Hangzhou",
            "On Monday Alibaba denied that its new server chips reached PLA units, after a report by a "
            "think tank. The company said its export controls were audited every quarter.",
        ),
        "marketplace": (
            "A marketplace for makers",
            "Alibaba opened a marketplace for makers in Europe this week, with sellers from twelve "
            "countries. Buyers can pay in euros, and returns are free for the first month while the "
            "service grows. Sellers list PLA filament, resin and spare nozzles at launch.",
        ),
        "shipping": (
            "Cheaper shipping for hobby shops",
            "Alibaba cut its shipping fees for small shops on Thursday. The change applies to parcels "
            "under two kilograms sent to Europe and North America, and it lasts until the end of the "
            "year. Hobby shops expect to order more PLA filament before the holidays.",
        ),
        "destroyer": (
            "PLA navy commissions a new destroyer",
            "The PLA navy commissioned a destroyer at a ceremony in Qingdao on Friday. Officers said the "
            "ship would join the northern fleet after sea trials in the spring.",
        ),
    }
)


def page(title: str, text: str) -> str:
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"


def publish(world: World, names: tuple[str, ...] | list[str], feed: str = "/feed.xml") -> None:
    items = []
    for name in names:
        title, text = ARTICLES[name]
        link = world.web.add(f"/{name}.html", page(title, text), content_type="text/html")
        items.append({"title": title, "link": link, "guid": name, "pub_date": hours_ago(1)})
    world.add_feed(feed, rss_feed("Wire", items))


def cli(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI against the world's files as they are now (World.run_cli would rewrite watchlists.yaml)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(world.environment())
    try:
        code = main(["--config", str(world.config_path), *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out, err = capsys.readouterr()
    return code, out, err


def judge(world: World, verdicts: dict[str, bool], press: str = "press") -> None:
    """Record a press of Relevant / Not relevant on each named article's alert, as the button handler does."""
    rows = world.store.rows(
        "SELECT alerts.id AS alert_id, articles.id AS article_id, articles.url, alerts.channel "
        "FROM alerts JOIN articles ON articles.id = alerts.article_id WHERE alerts.kind = 'alert'"
    )
    storage = open_storage(load_config(world.config_path).storage_url)
    try:
        for name, relevant in verdicts.items():
            [row] = [r for r in rows if r.url.endswith(f"/{name}.html")]
            action = "relevant" if relevant else "not_relevant"
            storage.record_interaction(
                Interaction(
                    key=f"{press}-{name}", at=datetime.now(UTC), user_id="U0AAA1", team_id="T1",
                    action=action, alert_id=row.alert_id, watchlists=("pla-watch",),
                    article_id=row.article_id, story_id=None, outlet="Wire", channel=row.channel,
                    channel_id="C1", message_ts="1.1",
                ),
                at=datetime.now(UTC),
            )  # fmt: skip
    finally:
        storage.close()


@pytest.fixture
def judged(world: World, capsys: pytest.CaptureFixture[str]) -> World:
    publish(world, list(ARTICLES)[:4])
    world.write_config()
    Path(world.folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    code, _, err = cli(world, capsys, "once")
    assert code == 0, err
    assert len(world.top_level("#china-tech")) == 4
    judge(world, {**{name: False for name in NOT_RELEVANT}, "drills": True})
    return world


def test_tune_suggests_excluding_pla_filament_and_apply_writes_it_keeping_comments(
    judged: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(judged, capsys, "tune")
    assert code == 0, err
    assert "pla-watch: 4 alert(s)" in out
    assert "1 relevant, 3 not relevant; precision 25% (1/4)" in out
    first = out.split("\n  2. ")[0]
    assert re.search(
        r"1\. \[[0-9a-f]{6}\] exclude 'PLA filament' from term 'PLA': "
        r"removes 3 alert\(s\) \(3 not relevant\), keeps 1",
        first,
    )
    assert "relevant lost: 0" in first
    assert "+      - term: PLA  # the People's Liberation Army\n" in first
    assert "+        exclude: [PLA filament]" in first
    assert "\n  2. " not in out  # no exclude only one of them has ("of PLA", "old PLA")

    code, out, err = cli(judged, capsys, "tune", "pla-watch", "--apply", "1")
    assert code == 0, err
    assert "excluded 'PLA filament' from term 'PLA' of watchlist 'pla-watch'" in out
    written = (judged.folder / "watchlists.yaml").read_text(encoding="utf-8")
    assert "# The army, not the plastic" in written and "# the People's Liberation Army" in written
    assert "exclude: [PLA filament]" in written

    later = judged.folder / "watchlists.yaml"
    kept = later.read_text(encoding="utf-8")
    publish(judged, ["spools"], feed="/later.xml")  # a later 3D-printing article on another feed
    judged.write_config()
    later.write_text(kept, encoding="utf-8")
    code, _, err = cli(judged, capsys, "once")
    assert code == 0, err
    rows = judged.store.rows("SELECT url, outcome FROM articles")
    assert [row.outcome for row in rows if row.url.endswith("/spools.html")] == ["no_match"]
    assert len(judged.top_level("#china-tech")) == 4


def test_tune_json_gives_precision_and_the_ranked_backtested_suggestions(
    judged: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(judged, capsys, "tune", "pla-watch", "--json")
    assert code == 0, err
    report = json.loads(out)
    [watchlist] = report["watchlists"]
    assert watchlist == {"name": "pla-watch", "alerts": 4, "judged": 4, "relevant": 1, "not_relevant": 3,
                         "precision": 0.25}  # fmt: skip
    first = report["suggestions"][0]
    assert (first["number"], first["kind"], first["term"], first["value"]) == (
        1,
        "exclude",
        "PLA",
        "PLA filament",
    )
    assert first["backtest"] == {"kept": 1, "removed": 3, "not_relevant_removed": 3, "relevant_lost": 0}
    assert "+        exclude: [PLA filament]" in first["diff"]


def test_a_watchlist_without_feedback_says_so_and_suggests_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(world, ["printer", "drills"])
    world.write_config()
    (world.folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    assert cli(world, capsys, "once")[0] == 0
    code, out, _ = cli(world, capsys, "tune")
    assert code == 0
    assert "pla-watch: 2 alert(s)" in out and "no feedback yet" in out and "nothing to tune" in out
    assert "1. " not in out
    code, _, err = cli(world, capsys, "tune", "--apply", "1")
    assert code == 2 and "there is no suggestion 1" in err


def test_an_unknown_watchlist_is_refused_naming_close_ones(
    judged: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(judged, capsys, "tune", "pla-wach")
    assert code == 2 and out == ""
    assert "no watchlist named 'pla-wach'" in err and "did you mean 'pla-watch'?" in err


def tune_json(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = cli(world, capsys, "tune", "pla-watch", "--json", *args)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def alerted_and_judged(world: World, capsys: pytest.CaptureFixture[str], verdicts: dict[str, bool]) -> None:
    publish(world, list(verdicts))
    world.write_config()
    (world.folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    code, _, err = cli(world, capsys, "once")
    assert code == 0, err
    assert len(world.top_level("#china-tech")) == len(verdicts)
    judge(world, verdicts)


def test_a_near_window_is_suggested_when_the_terms_are_close_in_the_relevant_alerts_only(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = {"servers": True, "chips": True, "marketplace": False, "shipping": False}
    alerted_and_judged(world, capsys, verdicts)
    report = tune_json(world, capsys)
    [near] = [s for s in report["suggestions"] if s["kind"] == "near"]
    # NEAR/5 would lose "chips" (7 words between): 10 is the smallest window that keeps both.
    assert (near["term"], near["value"]) == ("PLA", "PLA NEAR/10 Alibaba")
    assert near["backtest"] == {"kept": 2, "removed": 2, "not_relevant_removed": 2, "relevant_lost": 0}
    assert re.fullmatch(r"[0-9a-f]{6}", near["id"])
    assert "+    query: PLA NEAR/10 Alibaba" in near["diff"]

    code, out, err = cli(world, capsys, "tune", "--apply", near["id"])
    assert code == 0, err
    assert f"[{near['id']}] for pla-watch: set query: PLA NEAR/10 Alibaba" in out
    assert "+    query: PLA NEAR/10 Alibaba" in out  # the diff it wrote
    written = (world.folder / "watchlists.yaml").read_text(encoding="utf-8")
    assert written == WATCHLISTS + "    query: PLA NEAR/10 Alibaba\n"  # comments and all kept
    [watchlist] = load_config(world.config_path).watchlists
    assert watchlist.query == "PLA NEAR/10 Alibaba"
    assert not [s for s in tune_json(world, capsys)["suggestions"] if s["kind"] == "near"]


def test_a_title_scope_is_suggested_when_only_the_relevant_alerts_have_the_term_in_the_headline(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = {"destroyer": True, "printer": False, "recycling": False, "school": False}
    alerted_and_judged(world, capsys, verdicts)
    code, out, err = cli(world, capsys, "tune")
    assert code == 0, err
    listed = re.search(
        r"\n  (\d+)\. \[([0-9a-f]{6})\] set query: (.*) \('PLA' counts only in the headline\)", out
    )
    assert listed, out
    number, ident, query = listed.groups()
    assert query == "title:PLA OR Alibaba"
    assert "removes 3 alert(s) (3 not relevant), keeps 1, relevant lost: 0" in out.split(listed.group(0))[1]

    code, out, err = cli(world, capsys, "tune", "pla-watch", "--apply", number)
    assert code == 0, err
    # Given a number, it says which suggestion that was, by its id, and shows what it wrote.
    assert f"applied suggestion {number} [{ident}] for pla-watch: set query: title:PLA OR Alibaba" in out
    assert "+    query: title:PLA OR Alibaba" in out
    written = (world.folder / "watchlists.yaml").read_text(encoding="utf-8")
    assert "# The army, not the plastic" in written and "- PLA  # the People's Liberation Army" in written
    [watchlist] = load_config(world.config_path).watchlists
    assert watchlist.query == "title:PLA OR Alibaba"


def test_a_query_edit_replaces_the_query_a_watchlist_has_keeping_its_comment(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = {"destroyer": True, "printer": False, "recycling": False, "school": False}
    alerted_and_judged(world, capsys, verdicts)
    with_query = WATCHLISTS + "    query: PLA OR Alibaba  # either\n"
    (world.folder / "watchlists.yaml").write_text(with_query, encoding="utf-8")
    [title] = [s for s in tune_json(world, capsys)["suggestions"] if s["kind"] == "title"]
    assert title["value"] == "(PLA OR Alibaba) AND (title:PLA)"
    assert title["backtest"]["relevant_lost"] == 0 and title["backtest"]["not_relevant_removed"] == 3

    code, _, err = cli(world, capsys, "tune", "--apply", title["id"])
    assert code == 0, err
    written = (world.folder / "watchlists.yaml").read_text(encoding="utf-8")
    assert written == WATCHLISTS + "    query: (PLA OR Alibaba) AND (title:PLA)  # either\n"


def test_apply_refuses_an_id_that_is_no_longer_suggested(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = {"destroyer": True, "printer": False, "recycling": False, "school": False}
    alerted_and_judged(world, capsys, verdicts)
    [title] = [s for s in tune_json(world, capsys)["suggestions"] if s["kind"] == "title"]
    # A change of mind: nothing is relevant now, so there is nothing to learn a title: scope from.
    judge(world, {"destroyer": False}, press="later")

    code, out, err = cli(world, capsys, "tune", "--apply", title["id"])
    assert code == 2 and out == ""
    assert f"no current suggestion has the id '{title['id']}'" in err and "run tune again" in err
    assert (world.folder / "watchlists.yaml").read_text(encoding="utf-8") == WATCHLISTS


GAMES = '\n  # Games, for the other desk.\n  - name: games\n    channel: "#games"\n    terms: [Tencent]\n'
BLOCK_TERMS = "      - Alibaba\n"
FLOW_TERMS = "    terms: [PLA, Alibaba]  # the army and the company\n"


@pytest.mark.parametrize("terms", [BLOCK_TERMS, FLOW_TERMS], ids=["block-terms", "flow-terms"])
def test_a_new_query_goes_below_the_terms_and_the_next_watchlists_comments_stay_with_it(
    world: World, capsys: pytest.CaptureFixture[str], terms: str
) -> None:
    alerted_and_judged(
        world, capsys, {"servers": True, "chips": True, "marketplace": False, "shipping": False}
    )
    block = "    terms:\n      - PLA  # the People's Liberation Army\n" + BLOCK_TERMS
    written = (WATCHLISTS if terms == BLOCK_TERMS else WATCHLISTS.replace(block, FLOW_TERMS)) + GAMES
    (world.folder / "watchlists.yaml").write_text(written, encoding="utf-8")
    [near] = [s for s in tune_json(world, capsys)["suggestions"] if s["kind"] == "near"]

    code, _, err = cli(world, capsys, "tune", "--apply", near["id"])
    assert code == 0, err
    assert (world.folder / "watchlists.yaml").read_text(encoding="utf-8") == written.replace(
        terms, terms + "    query: PLA NEAR/10 Alibaba\n"
    )


def test_a_suggestion_names_the_alerts_nobody_judged_that_it_would_remove(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A count of alerts removed hides which: an unjudged article about filament prices goes with the
    three judged not relevant, and the analyst sees its headline before applying the edit."""
    publish(world, [*NOT_RELEVANT, "drills", "spools"])
    world.write_config()
    (world.folder / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    assert cli(world, capsys, "once")[0] == 0
    judge(world, {**{name: False for name in NOT_RELEVANT}, "drills": True})  # nobody judged "spools"
    [exclude] = [s for s in tune_json(world, capsys)["suggestions"] if s["value"] == "PLA filament"]
    assert exclude["backtest"] == {"kept": 1, "removed": 4, "not_relevant_removed": 3, "relevant_lost": 0}
    assert exclude["unjudged_removed"] == ["Spool prices fall"]
    code, out, err = cli(world, capsys, "tune", "pla-watch")
    assert code == 0, err
    assert "removes 4 alert(s) (3 not relevant), keeps 1, relevant lost: 0\n" in out
    assert "     also removes, not judged: Spool prices fall\n" in out
