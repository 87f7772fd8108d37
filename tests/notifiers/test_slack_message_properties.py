"""Whatever a feed writes, every Slack message kind keeps SLACK.md's rules (tests/support/slack_checks.py).

Hypothesis writes titles, outlet names, summaries, error texts and URLs from Slack's control characters,
mention and link tokens, bidi and zero-width characters, IDN and full-width hosts, userinfo that names
another site, and very long `&`-filled queries. The first property runs the builder alone (many
examples); the second sends every kind through SlackNotifier and the real slack-sdk client to the Slack
fake and checks the requests as sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.delivery.notifiers.slack import SlackNotifier
from monitor.delivery.notifiers.slack_digest import digest_message
from monitor.delivery.notifiers.slack_message import (
    ELLIPSIS,
    NO_PARSING,
    SECTION_TEXT_LIMIT,
    Emphasised,
    SlackMessage,
    Text,
    alert_message,
    clean,
    escape,
    notice_message,
    reply_message,
)
from monitor.models import Alert, Article, Digest, DigestHeadline, DigestStory, StoryReply
from tests.support.slack_checks import message_problems, real_host, request_problems
from tests.support.slack_fake import SlackFake

CHANNEL = "#news-alerts"
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)

HOSTILE_CHARS = (
    "aZ09 .,:;/?=#@!*_~`'\"|<>&\\%"
    "\u202e\u202d\u202a\u202b\u202c\u2066\u2067\u2068\u2069\u200e\u200f\u061c"  # bidi
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u034f\u3164\u00ad"  # zero-width and invisible
    "\x00\x1b\x07\x7f\x85\t\n\r\u2028\u2029"  # control characters and line separators
    "éß中ٱשׁ😀\ufe0f\U000e0041\U000e007f\ud800"  # letters of other scripts, emoji, a tag, a lone surrogate
)
FRAGMENTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0ADMIN>",
    "<!subteam^S1>",
    "<#C123>",
    "<https://phish.example/login|https://www.reuters.com/markets>",
    "&amp;",
    "&lt;",
    "&#39;",
    "evil.example/login",
    "#general",
    "@channel",
    "*bold*",
    "\u202emoc.sretuer",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=st.sampled_from(HOSTILE_CHARS), max_size=30)),
    max_size=8,
).map("".join)
huge_text = st.builds(
    lambda piece, times: piece * times, st.sampled_from(["&", "<>", "\u202e", "a "]), st.integers(1, 4000)
)
any_text = st.one_of(hostile_text, hostile_text, huge_text)
word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=20)  # a title's visible start
# Matched words: plain ones, ones that are also parts of entities, tokens and links (amp, lt, https...),
# ones holding Slack's formatting characters, and hostile text.
MATCHED_WORDS = ["amp", "lt", "gt", "channel", "here", "https", "reuters", "www", "chip", "Chipmakers"]
MATCHED_WORDS += ["*bold*", "a_b", "~x~", "`c`", " padded ", "&", "<", ">", "é", "中", "People's Army"]
matched_word = st.one_of(st.sampled_from(MATCHED_WORDS), word, hostile_text)
mixed_case_word = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéÉß", min_size=1, max_size=20
)

HOSTS = [
    "news.example",
    "www.reuters.com",
    "пример.рф",  # IDN: shown as xn--e1afmkfd.xn--p1ai
    "аpple.com",  # Cyrillic а: a homograph of apple.com, shown as xn--pple-43d.com
    "xn--80ak6aa92e.com",
    "ＥＸＡＭＰＬＥ.com",  # full-width: yarl folds it to example.com
    "１２７.0.0.1",
    "127.0.0.1",
    "[::1]",
    "evil.example",
    "a|b.example",
    "ex ample.com",
    "exa\u200bmple.com",
    "",
]
query = st.one_of(
    st.just(""),
    st.integers(0, 2000).map(lambda n: "?" + "&" * n),
    st.integers(0, 500).map(lambda n: "?" + "&".join(f"p{i}=<x>" for i in range(n))),
)
urls = st.builds(
    lambda scheme, user, host, port, path, q: f"{scheme}{user}{host}{port}/{path}{q}",
    st.sampled_from(["https://", "http://", "HTTPS://", "javascript:", "ftp://", ""]),
    st.sampled_from(["", "www.reuters.com@", "user:pass@"]),
    st.sampled_from(HOSTS),
    st.sampled_from(["", ":8080", ":99999"]),
    hostile_text,
    query,
)


def hosts_of(*addresses: str) -> set[str]:
    """The real host of each URL that has one: the only hosts a link may show."""
    hosts = set()
    for url in addresses:
        with contextlib.suppress(ValueError):  # yarl cannot read it: no link may be built from it
            hosts.add(real_host(url))
    return hosts


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    url = draw(urls)
    article = Article(
        url=url,
        title=draw(word) + draw(any_text),
        text="",
        canonical_url=draw(st.one_of(st.none(), urls)),
        published=draw(st.one_of(st.none(), st.just(NOW), st.datetimes(timezones=st.just(UTC)))),
        site_name=draw(st.one_of(st.none(), any_text)),
    )
    summary = draw(any_text)
    # Words that are in the summary (so some are put in bold), and others.
    words = draw(st.lists(st.one_of(matched_word, st.sampled_from(summary.split() or [""])), max_size=8))
    return Alert(
        channel=CHANNEL,
        article=article,
        source=draw(any_text),
        summary=summary,
        watchlists=tuple(draw(st.lists(hostile_text, min_size=1, max_size=3))),
        terms=tuple(draw(st.lists(hostile_text, min_size=1, max_size=5))),
        priority=draw(st.sampled_from(["high", "normal", "low"])),
        notify_here=draw(st.booleans()),
        matched=tuple(words),
        backfilled=draw(st.booleans()),
    )


@st.composite
def replies(draw: st.DrawFn) -> StoryReply:
    return StoryReply(
        CHANNEL,
        1,
        outlet=draw(any_text),
        title=draw(word) + draw(any_text),
        url=draw(urls),
        update=draw(st.booleans()),
    )


@st.composite
def digests(draw: st.DrawFn) -> Digest:
    stories = draw(
        st.lists(
            st.builds(
                DigestStory,
                title=st.builds(str.__add__, word, any_text),
                url=urls,
                source=hostile_text,
                outlets=st.lists(any_text, min_size=1, max_size=8).map(tuple),
                articles=st.integers(1, 20),
                first_seen=st.just(NOW),
                also=st.lists(
                    st.builds(
                        DigestHeadline,
                        title=st.builds(str.__add__, word, any_text),
                        url=urls,
                        source=hostile_text,
                    ),
                    max_size=12,
                ).map(tuple),
            ),
            max_size=30,
        )
    )
    zone = draw(st.sampled_from(["UTC", "Europe/Berlin", "Mars/Base"]))
    watchlists = ("chips", draw(hostile_text))
    return Digest(
        CHANNEL, watchlists, NOW - timedelta(days=1), NOW, zone, tuple(stories), more=draw(st.integers(0, 5))
    )


def assert_keeps_the_rules(message: SlackMessage, *, allow_here: bool, hosts: set[str]) -> None:
    assert message_problems(message.text, message.blocks, allow_here=allow_here, hosts=hosts) == []
    assert message.api_args().items() >= NO_PARSING.items()


@given(alerts(), st.lists(any_text, max_size=20))
def test_alerts_and_their_updates(alert: Alert, outlets: list[str]) -> None:
    hosts = hosts_of(alert.article.url, alert.article.canonical_url or alert.article.url)
    for message in (alert_message(alert), alert_message(alert, outlets)):
        assert_keeps_the_rules(message, allow_here=alert.notify_here, hosts=hosts)
        assert message.blocks is not None
        title = message.blocks[0]["text"]["text"]
        # The title survives whatever its link costs: its first word is shown, linked or not.
        assert alert.article.title[:3] in title


def unbold(text: str) -> str:
    return text.replace("*", "")


@given(
    any_text, st.lists(st.one_of(matched_word, st.just("")), max_size=8), st.integers(0, SECTION_TEXT_LIMIT)
)
def test_bold_matched_words_only_add_markers(summary: str, words: list[str], room: int) -> None:
    """Bold never changes, moves or splits what the text shows (so never an entity or a token): without
    its `*`, the summary with bold words is the summary without them; cut, it is a start of it."""
    bold = Emphasised(summary, tuple(words)).render(room)
    plain = Text(summary).render(room)
    assert len(bold) <= room
    assert message_problems(bold, None) == []
    whole = escape(clean(summary[: 4 * SECTION_TEXT_LIMIT + 64]))
    if not bold.endswith(ELLIPSIS) or whole.endswith(ELLIPSIS):
        if plain == whole:  # neither was cut
            assert unbold(bold) == unbold(plain)
            assert (bold.count("*") - plain.count("*")) % 2 == 0  # markers come in pairs
    else:
        assert unbold(whole).startswith(unbold(bold).removesuffix(ELLIPSIS))


@given(any_text, st.integers(0, SECTION_TEXT_LIMIT))
def test_without_matched_words_the_summary_is_as_before(summary: str, room: int) -> None:
    assert Emphasised(summary).render(room) == Text(summary).render(room)


@given(hostile_text, mixed_case_word, hostile_text)
def test_a_matched_word_is_bold_whatever_its_spelling(left: str, matched: str, right: str) -> None:
    """A word as the article writes it, with a space either side, is in bold, its escaping inside."""
    rendered = Emphasised(f"{left} {matched} {right}", (matched,)).render(SECTION_TEXT_LIMIT)
    assert f"*{escape(matched)}*" in rendered
    assert message_problems(rendered, None) == []


@given(replies())
def test_thread_replies(reply: StoryReply) -> None:
    message = reply_message(reply)
    assert_keeps_the_rules(message, allow_here=False, hosts=hosts_of(reply.url))
    assert reply.title[:3] in message.text


@given(digests())
def test_digests(digest: Digest) -> None:
    message = digest_message(digest)
    assert_keeps_the_rules(message, allow_here=False, hosts=digest_hosts(digest))
    assert message.blocks is not None
    sections = [b["text"]["text"] for b in message.blocks[2:] if b["type"] == "section"]
    leads = [text for text in sections if re.match(r"\d+\. ", text)]  # a story's first section
    for story, lead in zip(digest.stories, leads, strict=False):
        assert story.title[:3] in lead


def digest_hosts(digest: Digest) -> set[str]:
    return hosts_of(*(s.url for s in digest.stories), *(a.url for s in digest.stories for a in s.also))


@given(any_text)
def test_admin_notices(error: str) -> None:
    text = f"news-monitor kept its last valid configuration; this edit was refused:\n{error}"
    assert_keeps_the_rules(notice_message(text), allow_here=False, hosts=set())


def test_every_kind_as_the_real_client_sends_it() -> None:
    with SlackFake(channels=[CHANNEL]) as fake:

        @settings(max_examples=25)
        @given(alerts(), replies(), digests(), any_text, st.lists(any_text, max_size=20))
        def send_all(alert: Alert, reply: StoryReply, digest: Digest, error: str, outlets: list[str]) -> None:
            fake.reset()
            asyncio.run(send_every_kind(fake, alert, reply, digest, error, outlets))
            requests = fake.requests()
            assert [r["method"] for r in requests] == ["chat.postMessage"] * 4 + ["chat.update"] + [
                "chat.postMessage"
            ] * 2
            assert [r["status"] for r in requests] == [200] * 7
            hosts = hosts_of(alert.article.url, alert.article.canonical_url or "", reply.url)
            hosts |= digest_hosts(digest)
            for request in requests:
                problems = request_problems(request, allow_here=alert.notify_here, hosts=hosts)
                assert problems == [], request["body"]
            assert all(m["history"][-1]["args"]["parse"] == "none" for m in fake.messages())

        send_all()


async def send_every_kind(
    fake: SlackFake, alert: Alert, reply: StoryReply, digest: Digest, error: str, outlets: list[str]
) -> Any:
    notifier = SlackNotifier(fake.token, api_url=fake.api_url, timeout=10)
    try:
        posted = await notifier.send_alert(alert)
        assert posted is not None
        fake.inject("chat.postMessage", "msg_blocks_too_long")  # refused blocks: the plain text goes alone
        await notifier.send_alert(alert)
        await notifier.send_reply(reply, posted)
        await notifier.update_alert(alert, posted, outlets)
        await notifier.send_digest(digest)
        await notifier.send_notice(CHANNEL, f"this edit was refused:\n{error}")
    finally:
        await notifier.close()
