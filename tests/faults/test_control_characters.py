"""Control characters and ANSI escapes from feeds reach neither log lines nor the console raw.

A hostile title could otherwise forge a log line (a CR or LF and a fake event) or rewrite the
operator's terminal (ESC [2J clears it; the single-character C1 CSI, U+009B, does the same on
some terminals; U+202E reverses the text that follows).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from monitor.delivery.notifiers.console import format_alert
from monitor.logs import format_value
from monitor.models import Alert, Article
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

HOSTILE = "\x1b[2J\x1b]0;pwned\x07\r\nfeed.failed forged=1 \x9b31m\u202edesrever\x08\x00\x7f"
STORY = "".join(
    f"<p>Alibaba opened office number {n} in Hangzhou this week, the company said in a statement.</p>"
    for n in range(5)
)


def raw_controls(text: str) -> list[str]:
    """The characters in `text` that a terminal would act on; line breaks between lines are fine."""
    return sorted({ch for line in text.split("\n") for ch in line if not ch.isprintable()})


def feed_with_hostile_text(world: World, *, in_links: bool = False) -> None:
    """Titles, a summary and the feed's own title carrying HOSTILE, as raw bytes and as references.

    Raw C0 controls are not well-formed XML: feedparser's loose parser reads them anyway. The second
    item's page is missing, so its link is logged; with `in_links` that link carries HOSTILE too.
    """
    page = world.web.add("/story.html", f"<html><body><article>{STORY}</article></body></html>")
    missing = world.web.url("/gone.html") + ("?q=RAW" if in_links else "")
    items = [
        {"title": "Alibaba RAW", "link": page, "pub_date": hours_ago(1), "description": "Alibaba RAW"},
        {"title": "Alibaba REFERENCES", "link": missing, "pub_date": hours_ago(1)},
    ]
    references = "".join(f"&#{ord(ch)};" for ch in HOSTILE if ch != "\x00")
    feed = rss_feed("Feed RAW", items).replace("RAW", HOSTILE).replace("REFERENCES", references)
    world.add_feed("/hostile.xml", feed)


def console_output(world: World, capsys: pytest.CaptureFixture[str]) -> str:
    world.token = None  # alerts go to the console
    assert world.once() == 0
    out = capsys.readouterr().out
    assert out.count("[#china-tech]") == 2
    return out


def test_console_alerts_print_no_control_characters(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    feed_with_hostile_text(world)
    out = console_output(world, capsys)
    assert "Alibaba [2J" in out  # the text is there, its ESC is not
    assert raw_controls(out) == []


def test_console_alerts_print_no_control_characters_from_links(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_with_hostile_text(world, in_links=True)
    assert raw_controls(console_output(world, capsys)) == []


@pytest.mark.parametrize("in_links", [False, True], ids=["titles", "titles and links"])
def test_log_lines_carry_no_control_characters(
    world: World, caplog: pytest.LogCaptureFixture, in_links: bool
) -> None:
    feed_with_hostile_text(world, in_links=in_links)
    with caplog.at_level(logging.DEBUG):
        assert world.once() == 0
    assert len(world.slack.messages()) == 2
    lines = [record.getMessage() for record in caplog.records]
    assert any("article.fallback_to_summary" in line and "/gone.html" in line for line in lines)
    assert not [line for line in lines if raw_controls(line)]
    assert not [line for line in lines if line.startswith("feed.failed forged")]


@pytest.mark.parametrize("value", [HOSTILE, "https://x.example/a\x1b[2J", "line one\nfeed.failed forged=1"])
def test_format_value_keeps_one_printable_line(value: str) -> None:
    formatted = format_value(value)
    assert raw_controls(formatted) == [] and "\n" not in formatted


def hostile_alert(url: str) -> Alert:
    article = Article(
        url=url,
        title=f"Alibaba {HOSTILE}",
        text="text",
        canonical_url=None,
        published=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Alert(
        channel="#news",
        article=article,
        source=f"Feed {HOSTILE}",
        summary=f"Summary {HOSTILE}",
        watchlists=("w",),
        terms=("Alibaba",),
    )


def test_the_console_format_strips_control_characters_from_text_fields() -> None:
    assert raw_controls(format_alert(hostile_alert("https://x.example/a"))) == []


def test_the_console_format_strips_control_characters_from_the_url() -> None:
    assert raw_controls(format_alert(hostile_alert(f"https://x.example/a{HOSTILE}"))) == []
