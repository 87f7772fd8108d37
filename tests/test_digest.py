"""Digests: `delivery: digest` watchlists get one message per schedule, end to end against the Slack fake.

Articles come from the labelled story corpus (tests/fixtures/stories): three outlets' reports of one
event (s06, Xinchuang) and one outlet's report of another (s15, Lingxi Compute), served by the local web
server under feeds named after their outlets. `once` runs the real pipeline; the digest is then queued at a
chosen time (its schedule's next fire time) and sent by the real outbox through slack-sdk to the fake.
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.config.cron import last_fire_time, parse_crontab
from monitor.delivery.digest import MAX_STORIES, queue_due_digests
from monitor.delivery.notifiers.slack import SlackNotifier
from monitor.delivery.notifiers.slack_digest import TEXT_BUDGET, build_digest_blocks
from monitor.delivery.outbox import DeliveryStats, Outbox
from monitor.errors import ConfigError
from monitor.models import Digest, DigestHeadline, DigestStory
from monitor.storage import open_storage
from tests.support.feeds import rss_feed
from tests.support.slack_checks import request_problems
from tests.support.slack_fake import SlackFake, assert_no_mentions, validate_blocks
from tests.support.world import World, hours_ago
from tests.test_story_threads import Newsroom
from tests.test_story_updates import WRONG_JOIN

CORPUS_FILE = Path(__file__).parent / "fixtures" / "stories" / "corpus.jsonl"
CORPUS = {row["id"]: row for row in map(json.loads, CORPUS_FILE.read_text(encoding="utf-8").splitlines())}
CHANNEL = "#china-tech"
SCHEDULE = "0 8 * * *"
DIGEST_WATCHLIST = {
    "name": "chips-digest",
    "channel": CHANNEL,
    "terms": ["Xinchuang", "Lingxi Compute"],
    "delivery": "digest",
    "digest": SCHEDULE,
    "timezone": "Europe/Berlin",
}
# s06: three outlets' own reports of one event; s15-a1: one outlet's report of another.
PUBLISHED = {"Pacific Wire": "s06-a1", "SinoTech Review": "s06-a3", "Yangtze Daily": "s06-a4",
             "Meridian News Agency": "s15-a1"}  # fmt: skip


def article_page(article: dict[str, Any]) -> str:
    title = html.escape(article["title"])
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article["text"].split("\n") if p.strip())
    body = f"<article><h1>{title}</h1>{paragraphs}</article>"
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def publish(world: World, outlets: dict[str, str]) -> None:
    """Each outlet's feed carries its corpus article, published an hour ago."""
    for outlet, article_id in outlets.items():
        slug = outlet.lower().replace(" ", "-")
        article = CORPUS[article_id]
        url = world.web.add(f"/{slug}/{article_id}.html", article_page(article), content_type="text/html")
        item = {"title": article["title"], "link": url, "guid": article_id, "pub_date": hours_ago(1)}
        world.add_feed(f"/{slug}/rss.xml", rss_feed(outlet, [item]), name=outlet)


@pytest.fixture
def news(world: World) -> World:
    world.watchlists = [dict(DIGEST_WATCHLIST)]
    publish(world, PUBLISHED)
    return world


def next_fire(after: datetime) -> datetime:
    fire = parse_crontab(SCHEDULE, "Europe/Berlin").get_next_fire_time(None, after)
    assert fire is not None
    return fire.astimezone(UTC)


def digest_check(world: World, now: datetime) -> tuple[int, DeliveryStats]:
    """What `run` does each minute at `now`: queue the due digests, then send what the outbox holds."""
    config = load_config(world.write_config())
    storage = open_storage(config.storage_url)

    async def check_and_send() -> tuple[int, DeliveryStats]:
        queued = queue_due_digests(storage, config, now)
        notifier = SlackNotifier(world.slack.token, api_url=world.slack.api_url, timeout=5)
        outbox = Outbox(storage, notifier, config_fingerprint="test", clock=lambda: now, pace=0)
        try:
            return queued, await outbox.deliver_due()
        finally:
            await notifier.close()

    try:
        return asyncio.run(check_and_send())
    finally:
        storage.close()


def story_sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"][1:]


def test_digest_lists_the_period_s_stories_once_ranked_by_outlets(news: World) -> None:
    assert news.once() == 0
    assert news.slack.messages() == []  # a digest watchlist's matches wait for its schedule

    due = next_fire(datetime.now(UTC)) + timedelta(seconds=20)
    assert digest_check(news, due)[0] == 1
    [message] = news.slack.messages(CHANNEL)
    first, second = story_sections(message)
    # The story shows the headline of whichever of its three reports was read first: the three feeds are
    # polled at once, so which one that is depends on the order their polls finish (issue 14 is about it).
    s06_titles = [
        html.escape(CORPUS[article_id]["title"], quote=False) for article_id in ("s06-a1", "s06-a3", "s06-a4")
    ]
    assert any(title in first for title in s06_titles) and "3 outlets" in first, first
    assert "Lingxi Compute" in second and "1 outlet:" in second
    assert "News digest" in message["text"] and "2 stories" in message["text"]
    assert message["unfurl_links"] is False and validate_blocks(message["blocks"]) == []
    assert_no_mentions(news.slack)

    # The same time again, a second process, a later `once`: the row is the record, nothing more is posted.
    assert digest_check(news, due) == (0, DeliveryStats())
    assert news.once() == 0
    assert len(news.slack.messages()) == 1


def test_the_next_digest_lists_only_what_is_new(news: World) -> None:
    news.once()
    due = next_fire(datetime.now(UTC))
    digest_check(news, due)
    publish(news, {"Harbour Post": "s15-a3"})
    news.once()
    news.store.execute(  # seen after the first digest
        "UPDATE articles SET first_seen_at = :seen WHERE url LIKE '%s15-a3%'", seen=due + timedelta(hours=1)
    )
    assert digest_check(news, due + timedelta(days=1))[0] == 1
    second = news.slack.messages(CHANNEL)[-1]
    [story] = story_sections(second)
    assert "Lingxi Compute" in story and "2 outlets: Meridian News Agency, Harbour Post" in story


def test_a_digest_that_failed_once_arrives_once(news: World) -> None:
    news.once()
    due = next_fire(datetime.now(UTC))
    news.slack.inject("chat.postMessage", "http_503_html")
    queued, stats = digest_check(news, due)
    assert (queued, stats.retrying, news.slack.messages()) == (1, 1, [])
    news.let_backoff_pass()
    assert digest_check(news, due) == (0, DeliveryStats(sent=1))
    assert len(news.slack.messages(CHANNEL)) == 1


def test_once_queues_and_sends_a_due_digest(news: World) -> None:
    news.watchlists[0]["digest"] = "0 * * * *"  # hourly: the top of this hour is the digest's time
    news.watchlists[0]["timezone"] = "UTC"
    news.once()
    top_of_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    news.store.execute("UPDATE articles SET first_seen_at = :seen", seen=top_of_hour - timedelta(minutes=5))
    assert news.once() == 0
    assert len(news.slack.messages(CHANNEL)) == 1
    assert news.once() == 0
    assert len(news.slack.messages(CHANNEL)) == 1


def test_digest_command_previews_then_sends(news: World, capsys: pytest.CaptureFixture[str]) -> None:
    news.once()
    capsys.readouterr()
    assert news.run_cli("digest") == 0
    preview = capsys.readouterr().out
    # The three feeds are read at once: whichever outlet is stored first names the story.
    assert "DIGEST chips-digest" in preview and "3 outlet(s): " in preview and "Pacific Wire" in preview
    assert news.slack.messages() == []
    assert news.run_cli("digest", "--send") == 0
    assert "1 queued; 1 sent" in capsys.readouterr().out
    assert len(news.slack.messages(CHANNEL)) == 1
    assert news.run_cli("digest", "--send") == 0
    assert "nothing new since its last digest" in capsys.readouterr().out
    assert len(news.slack.messages(CHANNEL)) == 1


def test_digest_command_refuses_an_immediate_watchlist(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.feeds = [{"url": "https://example.com/rss.xml"}]
    assert world.run_cli("digest", "--watchlist", "alibaba-military") == 2
    assert (
        "watchlist 'alibaba-military' alerts immediately: give it `delivery: digest`"
        in capsys.readouterr().err
    )


def test_a_digest_lists_each_matched_article_under_its_own_headline(world: World) -> None:
    news = Newsroom(world, ["FinanceBlog", "Pacific Wire", "Mint"])
    world.watchlists = [{**DIGEST_WATCHLIST, "terms": ["Alibaba"]}]
    news.publish("FinanceBlog", "s01-a1")  # the Alibaba-PLA memo story's first report
    assert world.once() == 0
    news.publish("Pacific Wire", "s01-a3")  # another outlet's report of it
    news.publish("Mint", "x-thead", article=WRONG_JOIN)  # T-Head chips, with memo teasers in its sidebar
    assert world.once() == 0
    assert digest_check(world, next_fire(datetime.now(UTC)))[0] == 1
    [message] = world.slack.messages(CHANNEL)
    shown = "\n".join(story_sections(message))
    for title in (CORPUS["s01-a1"]["title"], CORPUS["s01-a3"]["title"], WRONG_JOIN["title"]):
        assert html.escape(title, quote=False) in shown, shown
    assert validate_blocks(message["blocks"]) == []


def test_a_story_shows_whole_or_is_counted_and_only_an_oversized_first_one_is_cut() -> None:
    now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    lines = tuple(
        DigestHeadline(f"Report {n} " + "x" * 80, f"https://news.example/{n}", "Mint") for n in range(8)
    )
    story = DigestStory("Lead", "https://news.example/lead", "Mint", ("Mint",), 9, now, also=lines)
    blocks = build_digest_blocks(Digest(CHANNEL, ("chips",), now, now, "UTC", (story,) * MAX_STORIES))
    text = json.dumps(blocks, ensure_ascii=False)
    shown = text.count("Lead")
    assert 0 < shown < MAX_STORIES and text.count("Report 7 ") == shown  # every shown story whole
    assert blocks[-1]["elements"][0]["text"] == f"…and {MAX_STORIES - shown} more stories"
    huge = DigestStory("Lead", "https://news.example/lead", "Mint", ("Mint",), 201, now, also=lines * 25)
    blocks = build_digest_blocks(Digest(CHANNEL, ("chips",), now, now, "UTC", (huge, story)))
    assert sum(len(b.get("text", {}).get("text", "")) for b in blocks) <= TEXT_BUDGET and len(blocks) <= 50
    assert "more of its articles" in json.dumps(blocks, ensure_ascii=False)
    assert blocks[-1]["elements"][0]["text"] == "…and 1 more story"


def hostile_digest(stories: int) -> Digest:
    now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    hostile_line = DigestHeadline("<!channel> " + "&<>" * 400, "https://evil.example/" + "&" * 1900, "<@U1>")
    story = DigestStory(
        title="<!channel> " + "&<>" * 400,
        url="https://evil.example/" + "&" * 1900,
        source="<@U123>",
        outlets=tuple(f"<!here> outlet {n} " + "&" * 100 for n in range(12)),
        articles=12,
        first_seen=now,
        also=(hostile_line,) * 11,
    )
    return Digest(
        CHANNEL, ("chips",), now - timedelta(days=1), now, "Europe/Berlin", (story,) * stories, more=7
    )


def test_a_full_digest_of_hostile_text_fits_slack_s_limits(slack_fake: SlackFake) -> None:
    digest = hostile_digest(MAX_STORIES)
    blocks = build_digest_blocks(digest)
    assert len(blocks) <= 50
    assert sum(len(b.get("text", {}).get("text", "")) for b in blocks) <= TEXT_BUDGET
    assert blocks[-1]["elements"][0]["text"].startswith("…and ")
    assert Digest.from_json(digest.to_json()) == digest

    async def send() -> str | None:
        notifier = SlackNotifier(slack_fake.token, api_url=slack_fake.api_url, timeout=5)
        try:
            return await notifier.send_digest(digest)
        finally:
            await notifier.close()

    assert asyncio.run(send())
    [message] = slack_fake.messages(CHANNEL)
    assert message["blocks"] == blocks  # the fake checks every Block Kit limit: nothing was refused
    assert_no_mentions(slack_fake)


def test_a_digest_of_lying_titles_shows_each_real_host_and_nothing_slack_would_parse(world: World) -> None:
    world.watchlists = [dict(DIGEST_WATCHLIST)]
    lying = "https://www.reuters.com/tech \u202emoc.sretuer\u202c <!channel> #general x\u200by.example: "
    for feed_title, article_id, link_length in [
        ("Pacific\u202eWire\u2066", "s06-a1", 0),
        ("Meridian\u200b News", "s15-a1", 2000),  # the longest link a feed item may carry, all `&`s
    ]:
        article = CORPUS[article_id]
        page = article_page({**article, "title": lying + article["title"]})
        url = world.web.add(f"/{article_id}.html", page, content_type="text/html")
        link = (url + "?" + "&".join(f"p{n}=1" for n in range(600)))[:link_length] if link_length else url
        item = {"title": lying + article["title"], "link": link, "guid": article_id, "pub_date": hours_ago(1)}
        world.add_feed(f"/{article_id}/rss.xml", rss_feed(feed_title, [item]))  # no name: the feed's title
    assert world.once() == 0
    assert digest_check(world, next_fire(datetime.now(UTC)))[0] == 1
    [request] = world.slack.requests("chat.postMessage")
    assert request_problems(request, hosts={"127.0.0.1"}) == []
    [message] = world.slack.messages(CHANNEL)
    stories = story_sections(message)
    assert len(stories) == 2
    for story in stories:  # each title survives, labelled with the host its link really goes to
        assert "https://www.reuters.com/tech moc.sretuer &lt;!channel&gt; #general xy.example: " in story
        assert "* (127.0.0.1)\n1 outlet: " in story
    assert any("Xinchuang" in story and ". *<http://127.0.0.1:" in story for story in stories)
    assert any("Lingxi Compute" in story and "<http" not in story for story in stories)  # too long to link


def test_ordinary_stories_are_all_listed() -> None:
    now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    story = DigestStory("Chip export rules tightened", "https://news.example/a", "Mint", ("Mint",), 1, now)
    blocks = build_digest_blocks(Digest(CHANNEL, ("chips",), now, now, "UTC", (story,) * MAX_STORIES))
    assert len(blocks) == MAX_STORIES + 2 and "more" not in json.dumps(blocks[-1])


# -- configuration --------------------------------------------------------------------------------------


def load_with(world: World, **watchlist: Any) -> Config:
    world.feeds = [{"url": "https://example.com/rss.xml"}]
    world.watchlists = [{"name": "chips", "terms": ["chips"], **watchlist}]
    return load_config(world.write_config())


@pytest.mark.parametrize(
    ("watchlist", "key", "fix"),
    [
        ({"delivery": "digest"}, "watchlists[0]", 'add `digest: "0 8 * * 1-5"`'),
        ({"digest": "0 8 * * 1-5"}, "watchlists[0]", "add `delivery: digest`"),
        ({"delivery": "immediate", "digest": "0 8 * * *"}, "watchlists[0]", "add `delivery: digest`"),
        ({"delivery": "digest", "digest": "0 8 * *"}, "digest", "expected 5 cron fields"),
        ({"delivery": "digest", "digest": "0 25 * * *"}, "digest", "higher than the maximum"),
        ({"delivery": "digest", "digest": "0 8 * * 8"}, "digest", "0 and 7 are Sunday"),
        ({"delivery": "digest", "digest": "0 8 1 * 1"}, "digest", "write one of them as *"),
        ({"delivery": "digest", "digest": "0 8 31 2 *"}, "digest", "never fires"),
        ({"delivery": "digest", "digest": None}, "digest", "the digest schedule is empty"),
        (
            {"delivery": "digest", "digest": "0 8 * * *", "timezone": "Europe/Berln"},
            "timezone",
            "did you mean Europe/Berlin",
        ),
    ],
)
def test_digest_settings_are_checked_at_load(
    world: World, watchlist: dict[str, Any], key: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_with(world, **watchlist)
    assert key in str(caught.value) and fix in str(caught.value)


def test_a_valid_digest_watchlist_loads(world: World) -> None:
    config = load_with(world, delivery="digest", digest="30 7 * * mon-fri", timezone="Asia/Tokyo")
    [watchlist] = config.watchlists
    assert (watchlist.digest, watchlist.timezone) == ("30 7 * * mon-fri", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("weekdays", "expected"),
    [
        ("1-5", "Mon Tue Wed Thu Fri"),
        ("0", "Sun"),
        ("7", "Sun"),
        ("5-7", "Fri Sat Sun"),
        ("*/2", "Sun Tue Thu Sat"),
        ("sat,sun", "Sat Sun"),
        ("mon-fri", "Mon Tue Wed Thu Fri"),
    ],
)
def test_weekdays_mean_what_they_mean_in_crontab(weekdays: str, expected: str) -> None:
    # APScheduler 3 counts 0 as Monday (agronholm/apscheduler#286); cron counts it as Sunday.
    trigger = parse_crontab(f"0 8 * * {weekdays}", "Europe/Berlin")
    fire, days = None, []
    start = datetime(2026, 11, 29, tzinfo=UTC)  # a Sunday
    for _ in range(7):
        fire = trigger.get_next_fire_time(fire, fire or start)
        assert fire is not None and fire.strftime("%H:%M %Z") == "08:00 CET"
        days.append(fire.strftime("%a"))
    assert set(days) == set(expected.split())


def test_last_fire_time_is_the_latest_at_or_before_now() -> None:
    trigger = parse_crontab("0 8 * * 1-5", "Europe/Berlin")
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert last_fire_time(trigger, saturday) == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # Friday 08:00 CET
    assert last_fire_time(trigger, datetime(2026, 12, 4, 7, 0, tzinfo=UTC)) == datetime(
        2026, 12, 4, 7, 0, tzinfo=UTC
    )
    yearly = parse_crontab("0 0 1 1 *")
    assert last_fire_time(yearly, saturday) == datetime(2026, 1, 1, tzinfo=UTC)
