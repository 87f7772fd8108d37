"""Block Kit built from hostile feed text: escaped, links that cannot lie, every size limit respected."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from monitor.delivery.notifiers.slack_message import (
    Link,
    age_text,
    alert_message,
    build_blocks,
    build_fallback_text,
    date_token,
    escape,
    posted_time,
    render,
)
from monitor.models import Alert, Article
from tests.support.slack_fake import MENTION_TOKENS, validate_blocks


def alert_with(
    title: str = "Alibaba denies", summary: str = "It said no.", url: str = "https://news.example/a"
) -> Alert:
    article = Article(
        url=url, title=title, text=summary, published=datetime(2026, 11, 15, 14, 53, tzinfo=UTC)
    )
    return Alert(
        channel="#china-tech",
        article=article,
        source="Mint",
        summary=summary,
        watchlists=("alibaba-military",),
        terms=("Alibaba", "PLA"),
    )


def all_strings(blocks: list[dict]) -> str:
    return repr(blocks)


def test_escape_order() -> None:
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"


def test_layout() -> None:
    blocks = build_blocks(alert_with(), now=datetime(2026, 11, 15, 16, 50, tzinfo=UTC))
    assert blocks[0]["text"]["text"] == "*<https://news.example/a|Alibaba denies>* (news.example)"
    assert blocks[1]["elements"][0]["text"] == (
        "Mint · <!date^1794754380^{date_short_pretty} {time}|2026-11-15 14:53 UTC> · 2 h ago"
    )
    assert blocks[2]["text"]["text"] == "It said no."
    assert "`Alibaba`, `PLA`" in blocks[3]["elements"][0]["text"]
    assert validate_blocks(blocks) == []


def test_mentions_and_links_from_content_are_neutralised() -> None:
    hostile = "Markets <!channel> <!here> <@U0ADMIN> <!subteam^S1> <#C1> <https://phish.example|https://reuters.com>"
    alert = alert_with(title=hostile, summary=hostile)
    text = all_strings(build_blocks(alert)) + build_fallback_text(alert)
    for token in MENTION_TOKENS:
        assert token not in text
    assert "<https://phish.example" not in text
    # The title is still a link, to the article, with the hostile text shown escaped.
    assert build_blocks(alert)[0]["text"]["text"].startswith(
        "*<https://news.example/a|Markets &lt;!channel&gt;"
    )


def test_link_target_cannot_break_out() -> None:
    link = render([Link("https://news.example/a|<!channel>?x=<y>", "label")], 3000)
    assert link == "<https://news.example/a%7C%3C!channel%3E?x=%3Cy%3E|label> (news.example)"
    assert render([Link("javascript:alert(1)", "click")], 3000) == "click"


def test_source_line_shows_the_real_host() -> None:
    blocks = build_blocks(
        alert_with(title="https://www.reuters.com/markets", url="https://phish.example/login")
    )
    assert blocks[0]["text"]["text"].endswith("|https://www.reuters.com/markets>* (phish.example)")


def test_huge_text_fits_block_kit_limits() -> None:
    huge = "&<>" * 5000 + " word" * 5000
    blocks = build_blocks(alert_with(title=huge, summary=huge, url="https://news.example/" + "a" * 5000))
    assert validate_blocks(blocks) == []
    assert len(build_fallback_text(alert_with(title=huge))) <= 3000
    # Cutting never leaves half an entity behind.
    for block in blocks:
        texts = [block["text"]["text"]] if "text" in block else [e["text"] for e in block["elements"]]
        for text in texts:
            assert not re.search(r"&(?!amp;|lt;|gt;)", text)


def test_age_at_posting_time() -> None:
    published = datetime(2026, 11, 15, 14, 53, tzinfo=UTC)
    ages = [
        age_text(published, published + timedelta(minutes=m)) for m in (-5, 0, 1, 59, 90, 2849, 2880, 10_000)
    ]
    assert ages == [
        "just now",
        "just now",
        "1 min ago",
        "59 min ago",
        "2 h ago",
        "47 h ago",
        "2 days ago",
        "7 days ago",
    ]


def test_an_update_counts_the_age_to_when_the_alert_was_posted() -> None:
    """chat.update rewrites the alert later ("Carried by 2 outlets"): its age stays the first version's."""
    posted = datetime(2026, 11, 15, 16, 53, tzinfo=UTC)
    update = alert_message(
        alert_with(), ["Mint", "Reuters"], posted_at=posted_time(f"{int(posted.timestamp())}.000001")
    )
    assert update.blocks is not None
    assert update.blocks[1]["elements"][0]["text"].endswith(" · 2 h ago")
    assert posted_time("not a ts") is None


def test_a_date_before_1970_gets_the_utc_text_alone() -> None:
    assert date_token(datetime(1969, 7, 20, 20, 17, tzinfo=UTC)) == "1969-07-20 20:17 UTC"
