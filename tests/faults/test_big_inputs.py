"""Big inputs: item floods, deep nesting, huge titles. Every one costs bounded work and memory.

The tests count the work a guard bounds (items looked at, pages fetched, elements parsed), never the
time it takes: CI's 2 cores are busy. The times are in bench/guards.py. A guard lost to a quadratic
or unbounded path trips the suite's per-test limit (pyproject.toml's timeout) on these sizes.
"""

from __future__ import annotations

import logging
import tracemalloc

import pytest
from lxml.html import HtmlElement

from monitor.errors import ExtractionError
from monitor.models import MAX_FEED_SUMMARY_CHARS as MAX_SUMMARY_CHARS
from monitor.models import Page
from monitor.stages import extract
from monitor.stages.extract import MAX_HTML_TAGS, extract_article
from monitor.stages.poll import MAX_ITEMS_PER_FEED, MAX_TITLE_CHARS, parse_feed
from monitor.text import html_to_text
from tests.support.feeds import rss_feed
from tests.support.prose import distinct_prose
from tests.support.slack_fake import validate_blocks
from tests.support.world import World, hours_ago, message_title

RSS_HEADERS = {"content-type": "application/rss+xml"}
STORY = "".join(
    f"<p>Alibaba opened office number {n} in Hangzhou this week, the company said in a statement.</p>"
    for n in range(5)
)


def stored_articles(world: World) -> int:
    [(count,)] = world.store.rows("SELECT count(*) FROM articles")
    return int(count)


def nested(open_tag: str, close_tag: str, depth: int, inside: str) -> str:
    return open_tag * depth + inside + close_tag * depth


# -- a flood of items ---------------------------------------------------------------------------


def test_a_feed_of_10000_items_is_read_up_to_the_cap(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Three recent items alert. The rest of the first MAX_ITEMS_PER_FEED are too old to fetch; every
    # item past the cap is recent and matches, so reading past it would fetch pages and flood Slack.
    for n in range(3):
        # Three different stories (one text three times would be one story told thrice by one outlet).
        prose = distinct_prose(f"big-{n}", 120)
        world.web.add(f"/big/{n}.html", f"<html><body><article><p>Alibaba news. {prose}</p></article>")
    items = [
        {
            "title": f"Alibaba update {n}",
            "link": world.web.url(f"/big/{n}.html"),
            "guid": f"big-{n}",
            "pub_date": hours_ago(1) if n < 3 or n >= MAX_ITEMS_PER_FEED else hours_ago(24 * 10),
        }
        for n in range(10_000)
    ]
    world.add_feed("/big.xml", rss_feed("Big", items))
    world.once()
    assert sorted(world.titles_posted()) == ["Alibaba update 0", "Alibaba update 1", "Alibaba update 2"]
    fetched = {r["path"] for r in world.web.requests() if r["path"].startswith("/big/")}
    assert fetched == {"/big/0.html", "/big/1.html", "/big/2.html"}
    # Exactly the first MAX_ITEMS_PER_FEED items were looked at: 3 alerted, the rest too old.
    assert f"items/too_old={MAX_ITEMS_PER_FEED - 3}" in capsys.readouterr().err
    assert stored_articles(world) == 3  # too-old items are not stored (they only grow older)


# -- deep nesting -------------------------------------------------------------------------------


def test_an_article_inside_100000_nested_divs_falls_back_to_the_summary(world: World) -> None:
    page = nested("<div>", "</div>", 100_000, f"<article>{STORY}</article>")
    link = world.web.add("/deep.html", f"<html><head><title>Deep</title></head><body>{page}</body></html>")
    summary = "<p>Alibaba's chip unit will supply a tenth of the chips, the feed says.</p>"
    world.add_feed(
        "/deep.xml",
        rss_feed("Deep", [{"title": "Deep", "link": link, "description": summary, "pub_date": hours_ago(1)}]),
    )
    world.once()
    [message] = world.slack.messages()
    assert "a tenth of the chips, the feed says" in message["blocks"][2]["text"]["text"]


@pytest.mark.parametrize(
    "html",
    [
        nested("<div>", "</div>", 100_000, "<p>deep</p>") + f"<article>{STORY}</article>",
        f"<article>{STORY}" + nested("<b>", "</b>", 10_000, "bold") + "</article>",
        f"<article>{STORY}</article>" + nested("<table><tr><td>", "</td></tr></table>", 10_000, "cell"),
    ],
    ids=["100000 divs", "10000 b", "10000 tables"],
)
def test_deeply_nested_pages_cost_little_and_never_recurse(html: str) -> None:
    page = Page(url="https://x.example/a", html=f"<html><body>{html}</body></html>", status=200)
    try:
        text = extract_article(page).text  # a RecursionError would fail the test
    except ExtractionError:
        text = ""  # libxml2 gives up past depth 256: the pipeline then uses the feed's summary
    assert text == "" or "Alibaba opened office number 0" in text


def test_a_page_of_400000_tags_is_cut_before_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    html = f"<html><head><title>Flood</title></head><body><article>{STORY}</article>{'<a href=x>' * 400_000}"
    page = Page(url="https://x.example/a", html=html, status=200)
    parsed: list[int] = []  # elements in each tree extraction builds: the work the cut bounds
    load_tree = extract.load_tree

    def counting_load_tree(html: str, page_url: str) -> HtmlElement:
        tree = load_tree(html, page_url)
        parsed.append(sum(1 for _ in tree.iter()))
        return tree

    monkeypatch.setattr(extract, "load_tree", counting_load_tree)
    article = extract_article(page)
    # 2.3 s with the cut at MAX_HTML_TAGS; 22 s and 700 MB without it (bench/guards.py).
    assert parsed and max(parsed) <= MAX_HTML_TAGS + 10  # + html, head, title, body, article, its <p>s
    assert "Alibaba opened office number 4" in article.text
    assert MAX_HTML_TAGS < 400_000


@pytest.mark.parametrize(
    "summary",
    [
        nested("<div>", "</div>", 100_000, "Alibaba deep"),
        nested("<b>", "</b>", 10_000, "Alibaba deep"),
        nested("<div>", "</div>", 15_000, "Alibaba deep"),
    ],
    ids=["100000 divs", "10000 b", "15000 divs"],
)
def test_deeply_nested_summaries_cost_little(summary: str) -> None:
    # 0.1-0.3 s (bench/guards.py). Appending a line break into every block, as html_to_text once did,
    # took 20 s for 20,000 nested <div>s and minutes for 100,000: past the per-test limit.
    text = html_to_text(summary, max_chars=MAX_SUMMARY_CHARS)
    # Text within the HTML read for a summary (4 characters of HTML per character kept) is kept.
    assert text == ("Alibaba deep" if summary.index("Alibaba") < MAX_SUMMARY_CHARS * 4 else "")


def test_a_feed_item_with_a_deeply_nested_summary_still_comes_through() -> None:
    summary = nested("<div>", "</div>", 15_000, "<p>Alibaba deep</p>")
    body = rss_feed("Deep", [{"title": "Deep", "link": "https://x.example/1", "description": summary}])
    _, [item], _ = parse_feed("https://f.example/deep.xml", body.encode(), RSS_HEADERS)  # ~0.6 s
    assert item.summary_text == "Alibaba deep"


# -- huge titles and summaries ------------------------------------------------------------------


def test_a_one_megabyte_title_and_summary_are_capped_and_slack_accepts_the_message(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    title = "Alibaba " + "headline " * 120_000  # ~1 MB
    summary = "<p>" + "Alibaba opened an office in Hangzhou. " * 27_000 + "</p>"  # ~1 MB
    world.add_feed(
        "/huge.xml",
        rss_feed("Huge", [{"title": title, "description": summary, "guid": "h1", "pub_date": hours_ago(1)}]),
    )
    tracemalloc.start()
    try:
        assert world.once() == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [message] = world.slack.messages()
    assert validate_blocks(message["blocks"]) == []
    assert len(message_title(message)) <= MAX_TITLE_CHARS
    assert len(str(message)) < 10_000
    assert not [r for r in caplog.records if "blocks_refused" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert peak < 200_000_000, peak  # measured ~40 MB for 2 MB of feed
