"""The hostile-input guards, timed: the wall-clock figures the tests used to assert.

The tests (tests/faults/test_big_inputs.py, test_xml_attacks.py, tests/query/, tests/stages/test_extract.py)
check what each guard does and count the work it bounds; a time belongs here, where the machine's load is
known. Each case is run `--repeat` times and its median is printed beside the bound the test once held it
to, on an idle 2-core machine; `--strict` exits 1 when a median is over its bound.

    python bench/guards.py [--repeat 3] [--strict]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.config import WatchlistConfig  # noqa: E402
from monitor.errors import ExtractionError, FeedError  # noqa: E402
from monitor.models import MAX_FEED_SUMMARY_CHARS, Page  # noqa: E402
from monitor.query import ArticleText, RegexTimeout, compile_user_regex  # noqa: E402
from monitor.stages.extract import MAX_HTML_CHARS, extract_article  # noqa: E402
from monitor.stages.match import compile_watchlist  # noqa: E402
from monitor.stages.poll import parse_feed  # noqa: E402
from monitor.stages.xml_guard import find_entity_declaration  # noqa: E402
from monitor.text import html_to_text  # noqa: E402
from tests.faults.test_xml_attacks import billion_laughs, quadratic_blowup  # noqa: E402
from tests.query.test_evaluate import EXAMPLE, PLA  # noqa: E402
from tests.support.feeds import rss_feed  # noqa: E402

RSS_HEADERS = {"content-type": "application/rss+xml"}
STORY = "".join(
    f"<p>Alibaba opened office number {n} in Hangzhou this week, the company said in a statement.</p>"
    for n in range(5)
)
PARAGRAPH = "The council approved the budget after a long debate about road repairs and school funding. "


@dataclass(frozen=True)
class Case:
    name: str
    bound: float  # seconds: what the test once asserted
    run: Callable[[], object]


def nested(open_tag: str, close_tag: str, depth: int, inside: str) -> str:
    return open_tag * depth + inside + close_tag * depth


def extract_or_nothing(html: str) -> None:
    with contextlib.suppress(ExtractionError):  # past libxml2's depth limit: the feed's summary is used
        extract_article(Page(url="https://x.example/a", html=html, status=200))


def catastrophic_regex() -> None:
    assert compile_user_regex(r"(a+)+$").finditer("a" * 50 + "b") == []


def refused(body: str) -> None:
    try:
        parse_feed("https://f.example/feed.xml", body.encode(), RSS_HEADERS)
    except FeedError:
        return
    raise AssertionError("the feed was not refused")


def runaway_regex() -> None:
    try:
        compile_user_regex(r"(a|aa)+$").finditer("a" * 40 + "b")
    except RegexTimeout:
        return
    raise AssertionError("the runaway pattern was not stopped")


def query_on_5000_words() -> Callable[[], object]:
    vocabulary = ["the", "company", "said", "on", "Monday", "that", "its", "cloud", "unit", "grew", "and"]
    words = [vocabulary[(i * 7) % len(vocabulary)] for i in range(5000)]
    words[1000], words[1010], words[4000] = "Alibaba", "PLA", "T-Head"
    text = ". ".join(" ".join(words[i : i + 20]) for i in range(0, 5000, 20))
    watchlist = WatchlistConfig.model_validate({"name": "w", "terms": [PLA], "query": EXAMPLE})
    query = compile_watchlist(watchlist, "#c").query
    assert query is not None
    return lambda: query.evaluate(ArticleText("Alibaba results", text))


def cases() -> list[Case]:
    flood = f"<html><head><title>Flood</title></head><body><article>{STORY}</article>{'<a href=x>' * 400_000}"
    capped = (
        f"<html><head><title>Budget</title></head><body><article><p>{PARAGRAPH * 5}</p></article>"
        f"<!--{'x' * MAX_HTML_CHARS}--><p>Past the cap.</p></body></html>"
    )
    divs = nested("<div>", "</div>", 100_000, "<p>deep</p>") + STORY
    tables = STORY + nested("<table><tr><td>", "</td></tr></table>", 10_000, "x")
    summary = nested("<div>", "</div>", 100_000, "Alibaba")
    deep_item = {"title": "Deep", "link": "https://x.example/1",
                 "description": nested("<div>", "</div>", 15_000, "<p>Alibaba deep</p>")}  # fmt: skip
    deep_feed = rss_feed("Deep", [deep_item]).encode()
    large_items = [
        {"title": f"Story {i}", "link": f"https://x.example/{i}", "description": "<p>" + "text " * 200}
        for i in range(8_000)
    ]
    large_feed = rss_feed("Large", large_items).encode()
    declarations = b"<!" * 2_500_000 + b"<rss/>"
    return [
        Case(
            "extract: a page of 400,000 tags",
            10,
            lambda: extract_article(Page(url="https://x/a", html=flood)),
        ),
        Case(
            "extract: HTML past the size cap",
            10,
            lambda: extract_article(Page(url="https://x/", html=capped)),
        ),
        Case("extract: 100,000 nested divs", 5, lambda: extract_or_nothing(divs)),
        Case("extract: 10,000 nested tables", 5, lambda: extract_or_nothing(tables)),
        Case(
            "summary: 100,000 nested divs", 3, lambda: html_to_text(summary, max_chars=MAX_FEED_SUMMARY_CHARS)
        ),
        Case(
            "feed: an item with 15,000 nested divs",
            5,
            lambda: parse_feed("https://f/d", deep_feed, RSS_HEADERS),
        ),
        Case("feed: billion laughs refused", 2, lambda: refused(billion_laughs())),
        Case("feed: quadratic blowup refused", 2, lambda: refused(quadratic_blowup())),
        Case("entity guard: an 8 MB feed", 0.25, lambda: find_entity_declaration(large_feed, "text/xml")),
        Case("entity guard: 2,500,000 declarations", 20, lambda: find_entity_declaration(declarations)),
        Case("regex: (a+)+$ on 51 characters", 0.1, catastrophic_regex),
        Case("regex: a runaway pattern stopped", 0.5, runaway_regex),
        Case("query: a 5,000-word article", 0.010, query_on_5000_words()),
    ]


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    run()  # warm: first-call costs (imports, compiled patterns, caches) are not what a guard bounds
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a median is over its bound")
    args = parser.parse_args()
    over = 0
    print(f"{'case':44} {'median':>10} {'bound':>8}")
    for case in cases():
        seconds = median_seconds(case.run, args.repeat)
        verdict = "" if seconds <= case.bound else "  over"
        over += bool(verdict)
        print(f"{case.name:44} {seconds:9.4f}s {case.bound:7.3f}s{verdict}")
    return 1 if args.strict and over else 0


if __name__ == "__main__":
    sys.exit(main())
