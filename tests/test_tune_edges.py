"""Edges of `tune` found by an outside review (each test failed before its fix):

1. A watchlist with two terms of the same name: the backtest edited both, the file got the edit on the
   first only, so the written watchlist kept every alert the backtest said it removes.
2. `--apply ID` wrote an edit whose backtest had since come to lose a relevant alert (feedback given in
   between), and said nothing of it: such an edit is no longer suggested, so the id is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import load_config
from monitor.feedback.alerted import alerts_by_watchlist
from monitor.stages.match import compile_watchlists, match_article
from monitor.storage import open_storage
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago
from tests.test_tune import cli, judge, page, tune_json

OTHER = (
    "Rain fell over the harbour town of Brest while fishermen mended nets and argued about quotas, diesel "
    "prices, the new ferry timetable, a closed bakery and the football club's dismal season so far."
)
ARTICLES = {
    "printer": ("A desktop printer review", "The new printer handles PLA filament well. " + OTHER),
    "recycling": ("A recycling startup in Lyon", "The startup grinds old PLA filament spools into pellets."),
    "drills": ("Drills near the strait", "The PLA held naval drills near the strait on Tuesday."),
    "hobby": ("Printing at home", "A pla spool lasts a month, hobbyists told the fair in Lyon."),
    "school": ("Pupils learn design", "Each pupil got a roll of pla and a brief for a small toy."),
    "unit": ("A move to the coast", "A pla unit of the army moved to the coast, officials said."),
}


def alerted(world: World, capsys: pytest.CaptureFixture[str], watchlists: str, names: list[str]) -> None:
    items = []
    for name in names:
        title, text = ARTICLES[name]
        link = world.web.add(f"/{name}.html", page(title, text), content_type="text/html")
        items.append({"title": title, "link": link, "guid": name, "pub_date": hours_ago(1)})
    world.add_feed("/feed.xml", rss_feed("Wire", items))
    world.write_config()
    (world.folder / "watchlists.yaml").write_text(watchlists, encoding="utf-8")
    code, _, err = cli(world, capsys, "once")
    assert code == 0, err
    assert len(world.top_level("#china-tech")) == len(names)


def kept_by_the_written_file(world: World) -> int:
    """The period's alerts that the watchlist, loaded from the file as written, still matches."""
    config = load_config(world.config_path)
    storage = open_storage(config.storage_url)
    try:
        [alerts] = alerts_by_watchlist(storage, config, datetime.now(UTC) - timedelta(days=30), "pla-watch")
    finally:
        storage.close()
    return sum(bool(match_article(a.article, compile_watchlists(config))) for a in alerts.articles)


def test_an_exclude_on_a_term_name_two_terms_share_removes_what_its_backtest_says(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlists = (
        'watchlists:\n  - name: pla-watch\n    channel: "#china-tech"\n    terms:\n'
        "      - PLA\n      - term: PLA\n        aliases: [People's Liberation Army]\n"
    )
    alerted(world, capsys, watchlists, ["printer", "recycling", "drills"])
    judge(world, {"printer": False, "recycling": False, "drills": True})
    [exclude] = [s for s in tune_json(world, capsys)["suggestions"] if s["kind"] == "exclude"]
    assert exclude["backtest"] == {"kept": 1, "removed": 2, "not_relevant_removed": 2, "relevant_lost": 0}

    code, _, err = cli(world, capsys, "tune", "--apply", exclude["id"])
    assert code == 0, err
    # Seen: 3 (the exclude went on the first `PLA` only; the second still matches "PLA filament").
    assert kept_by_the_written_file(world) == exclude["backtest"]["kept"]


def test_apply_by_id_says_the_backtest_it_now_has(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    alerted(world, capsys, 'watchlists:\n  - name: pla-watch\n    channel: "#china-tech"\n    terms: [PLA]\n',
            ["hobby", "school", "drills", "unit"])  # fmt: skip
    judge(world, {"hobby": False, "school": False, "drills": True})
    [listed] = [s for s in tune_json(world, capsys)["suggestions"] if s["kind"] == "case_sensitive"]
    assert listed["backtest"]["relevant_lost"] == 0  # what the analyst saw when choosing it
    judge(world, {"unit": True}, press="later")  # then a colleague marks "a pla unit of the army" relevant

    before = (world.folder / "watchlists.yaml").read_text(encoding="utf-8")
    code, _, err = cli(world, capsys, "tune", "--apply", listed["id"])
    # Was: exit 0, the edit written, and nothing said it now loses the relevant alert.
    assert code == 2 and "run tune again" in err, err
    assert (world.folder / "watchlists.yaml").read_text(encoding="utf-8") == before
