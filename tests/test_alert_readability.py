"""What an alert says, end to end (issue 13, part 8): `once` or `backfill` runs the real pipeline, the real
slack-sdk client posts to the Slack fake, and the blocks are read as sent.

An alert shows when the article was published as a `<!date^…>` token (each reader's own time zone, the UTC
text as fallback) and how long before posting; the publisher a page names, beside an aggregator's feed;
the words that matched as the article writes them, in bold in the summary; and, when `backfill` queued it,
that it came late.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.feeds import rss_feed
from tests.support.slack_checks import request_problems
from tests.support.world import World

CHANNEL = "#news-alerts"
PARAGRAPHS = [
    "Chipmakers rallied on Monday after a strong forecast from the largest foundry lifted the sector.",
    "Analysts said the chip shortage that hit carmakers two years ago is now firmly behind the industry.",
    "Shares of equipment suppliers also rose, while memory prices held steady for a third month.",
    "The index of chipmakers closed at a record, its fifth gain in a row this month.",
]


def article_page(title: str, *, site_name: str | None = None) -> str:
    meta = f'<meta property="og:site_name" content="{html.escape(site_name)}">' if site_name else ""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in PARAGRAPHS)
    return (
        f"<html><head><title>{html.escape(title)}</title>{meta}</head>"
        f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>"
    )


def publish(
    world: World,
    feed_title: str,
    published: datetime,
    *,
    site_name: str | None = None,
    name: str | None = None,
) -> None:
    title = "Chip stocks hit a record"
    link = world.web.add("/a.html", article_page(title, site_name=site_name), content_type="text/html")
    item = {"title": title, "link": link, "guid": "a1", "pub_date": published}
    feed: dict[str, Any] = {"name": name} if name else {}
    world.add_feed("/rss.xml", rss_feed(feed_title, [item]), **feed)


def source_line(message: dict[str, Any]) -> str:
    return str(message["blocks"][1]["elements"][0]["text"])


def summary_text(message: dict[str, Any]) -> str:
    return str(message["blocks"][2]["text"]["text"])


def terms_line(message: dict[str, Any]) -> str:
    return str(message["blocks"][3]["elements"][0]["text"])


def watch_chips(world: World) -> None:
    world.watchlists = [{"name": "chips", "channel": CHANNEL, "query": "chip*"}]


def test_the_publication_time_is_a_date_token_with_the_utc_fallback_and_its_age(world: World) -> None:
    watch_chips(world)
    published = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    publish(world, "FinanceBlog", published)
    assert world.once() == 0
    [message] = world.slack.messages(CHANNEL)
    stamp = int(published.timestamp())
    utc = published.strftime("%Y-%m-%d %H:%M UTC")
    # Slack shows the token in each reader's time zone; a client that cannot shows the UTC text.
    assert (
        source_line(message)
        == f"FinanceBlog · <!date^{stamp}^{{date_short_pretty}} {{time}}|{utc}> · 2 h ago"
    )
    assert f"published {utc}, 2 h ago" in message["text"]  # the notification's plain text
    [request] = world.slack.requests("chat.postMessage")
    assert request_problems(request, hosts={"127.0.0.1"}) == []


def test_an_aggregator_feed_item_names_the_publisher_from_the_page(world: World) -> None:
    watch_chips(world)
    publish(world, "Google News", datetime.now(UTC) - timedelta(minutes=30), site_name="Reuters")
    assert world.once() == 0
    [message] = world.slack.messages(CHANNEL)
    assert source_line(message).startswith("Reuters via Google News · <!date^")
    assert source_line(message).endswith(" · 30 min ago")
    assert "(Reuters via Google News)" in message["text"]


def test_a_publisher_named_like_the_feed_is_named_once(world: World) -> None:
    watch_chips(world)
    publish(world, "Mint RSS", datetime.now(UTC) - timedelta(hours=1), site_name="Livemint", name="Mint")
    assert world.once() == 0
    [message] = world.slack.messages(CHANNEL)
    assert source_line(message).startswith("Mint · <!date^")


def test_a_page_without_a_site_name_shows_no_host_as_its_publisher(world: World) -> None:
    watch_chips(world)
    publish(
        world, "FinanceBlog", datetime.now(UTC) - timedelta(hours=1)
    )  # trafilatura would say 127.0.0.1:port
    assert world.once() == 0
    [message] = world.slack.messages(CHANNEL)
    assert source_line(message).startswith("FinanceBlog · <!date^")


def test_matched_words_are_shown_as_written_and_in_bold_in_the_summary(world: World) -> None:
    watch_chips(world)
    publish(world, "FinanceBlog", datetime.now(UTC) - timedelta(hours=1))
    assert world.once() == 0
    [message] = world.slack.messages(CHANNEL)
    # Each word once whatever its case, the headline's spelling first.
    assert terms_line(message) == "Matched *Chip*, *Chipmakers* · watchlist chips"
    assert "chip*" not in terms_line(message) and "`" not in terms_line(message)
    summary = summary_text(message)
    assert summary.startswith("*Chipmakers* rallied on Monday")
    assert "the *chip* shortage" in summary and "carmakers" in summary  # a whole word only
    # Removing the bold markers gives the summary as the article writes it.
    assert summary.replace("*", "").startswith(PARAGRAPHS[0])
    assert "chip*" not in message["text"] and "matched Chip, Chipmakers" in message["text"]


def test_the_console_shows_the_same_in_plain_text(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    watch_chips(world)
    published = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    publish(world, "Google News", published, site_name="Reuters")
    world.token = None
    assert world.once() == 0
    out = capsys.readouterr().out
    utc = published.strftime("%Y-%m-%d %H:%M UTC")
    assert f"  Reuters via Google News · {utc} (3 h ago) · http://" in out
    assert "  matched: Chip, Chipmakers (watchlist chips)" in out


def test_a_backfilled_alert_says_so_with_its_original_publication_time(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.watchlists = [{"name": "banks", "channel": CHANNEL, "terms": ["HSBC"]}]  # matches nothing
    published = (datetime.now(UTC) - timedelta(hours=5)).replace(microsecond=0)
    publish(world, "FinanceBlog", published)
    assert world.once() == 0 and world.slack.messages() == []
    watch_chips(world)
    assert world.run_cli("backfill", "--since", "24h") == 0
    [message] = world.slack.messages(CHANNEL)
    stamp = int(published.timestamp())
    assert message["blocks"][0]["text"]["text"].startswith("Backfilled: *<http://")
    assert re.search(
        rf" · originally published <!date\^{stamp}\^[^|]+\|[^>]+>, 5 h ago$", source_line(message)
    )
    assert message["text"].startswith("Backfilled: Chip stocks hit a record")


def test_a_backfilled_alert_says_so_on_the_console_too(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.token = None
    world.watchlists = [{"name": "banks", "channel": CHANNEL, "terms": ["HSBC"]}]
    published = (datetime.now(UTC) - timedelta(hours=5)).replace(microsecond=0)
    publish(world, "FinanceBlog", published)
    assert world.once() == 0
    watch_chips(world)
    capsys.readouterr()
    assert world.run_cli("backfill", "--since", "24h") == 0
    out = capsys.readouterr().out
    assert f"[{CHANNEL}] BACKFILLED Chip stocks hit a record" in out
    assert (
        f"  FinanceBlog · originally published {published.strftime('%Y-%m-%d %H:%M UTC')} (5 h ago) · " in out
    )


def test_an_alert_queued_by_an_older_or_newer_version_is_still_sent(world: World) -> None:
    """Payloads in the outbox: one from before the matched words and the backfill mark were kept shows the
    configured terms, as then; one with a field this version does not know (a newer instance of a fleet
    being upgraded queued it) is sent without it."""
    watch_chips(world)
    publish(world, "FinanceBlog", datetime.now(UTC) - timedelta(hours=1))
    for method in ("chat.postMessage", "auth.test"):  # Slack down for the whole run: it waits in the outbox
        world.slack.inject(method, "service_unavailable", times=50)
    assert world.once() == 0 and world.slack.messages() == []
    world.slack.clear_faults()
    [(payload,)] = world.store.rows("SELECT payload FROM alerts WHERE status = 'pending'")
    older = json.loads(payload)
    for key in ("matched", "backfilled"):
        older.pop(key, None)
    older["added_by_a_newer_version"] = True
    older["article"]["also_newer"] = "x"
    world.store.execute("UPDATE alerts SET payload = :payload", payload=json.dumps(older))
    world.let_backoff_pass()
    assert world.once() == 0
    [message] = world.slack.messages(CHANNEL)
    assert terms_line(message) == "Matched `chip*` · watchlist chips"
    assert source_line(message).startswith("FinanceBlog · <!date^")
