"""`news-monitor check --online` against the Slack fake and loopback feeds, through the real CLI.

The token works (auth.test, its scopes from x-oauth-scopes), the bot can post in every configured channel
(nothing is posted to find out), every feed answers with a feed; one line per check, a fix for each that
fails, exit 0 only when every check holds.
"""

from __future__ import annotations

import re
import socket

import pytest

from tests.support.feeds import atom_feed, rss_feed
from tests.support.world import World, hours_ago

FIX_NAME = re.compile(r"FAIL  #china-tec \(watchlist alibaba-military\): no channel of that name")


def serve_feed(world: World, path: str = "/feed.xml", *, age_hours: float = 1, name: str = "Chips") -> str:
    item = {
        "title": "T-Head ships",
        "link": world.web.url("/a.html"),
        "guid": "1",
        "pub_date": hours_ago(age_hours),
    }
    return world.add_feed(path, rss_feed("Chips feed", [item]), name=name)


def check_online(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = world.run_cli("check", "--online")
    return code, capsys.readouterr().out.splitlines()


def line_of(lines: list[str], subject: str) -> str:
    [line] = [line for line in lines if line[8:].startswith(subject)]
    return line


def test_everything_holds(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    serve_feed(world)
    code, lines = check_online(world, capsys)
    assert code == 0, "\n".join(lines)
    assert line_of(lines, "token ($NEWS_MONITOR_TEST_TOKEN)").startswith("  ok    ")
    assert "bot @news-monitor (U0000001) in Fake Workspace" in line_of(lines, "token")
    assert "scopes: channels:read, chat:write, groups:read" in line_of(lines, "token")
    assert line_of(lines, "#news-alerts (default channel)") == (
        "  ok    #news-alerts (default channel): the bot is a member"
    )
    assert line_of(lines, "#china-tech (watchlist alibaba-military)").startswith("  ok    ")
    feed = line_of(lines, "Chips (")
    assert re.fullmatch(
        r"  ok    Chips \(\S+\): HTTP 200, RSS 2\.0, 1 item, newest \S+ \S+ UTC \((60|59)m ago\)", feed
    )
    assert lines[-1] == "check --online: every check holds"
    assert world.slack.requests("chat.postMessage") == []  # nothing was posted to find out


def test_each_channel_that_cannot_take_posts_says_how_to_fix_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    world.slack.add_channel("#outside", member=False)
    world.slack.add_channel("#old-news", archived=True)
    world.slack.add_channel("#secret", private=True, member=False)
    world.watchlists[0]["channel"] = "#china-tec"  # a typo
    for name, channel in (("outside", "#outside"), ("old", "#old-news"), ("secret", "#secret")):
        world.watchlists.append({"name": name, "channel": channel, "terms": [name]})
    code, lines = check_online(world, capsys)
    assert code == 1
    typo = line_of(lines, "#china-tec (watchlist alibaba-military)")
    assert typo.startswith("  FAIL  ") and "(did you mean #china-tech?)" in typo
    assert f"correct it in {world.folder / 'watchlists.yaml'}" in typo
    outside = line_of(lines, "#outside (watchlist outside)")
    assert "the bot is not a member" in outside
    assert "invite it (/invite @news-monitor in #outside), or add the chat:write.public scope" in outside
    archived = line_of(lines, "#old-news (watchlist old)")
    assert "the channel is archived -> fix: unarchive it, or route watchlist old elsewhere" in archived
    # A private channel the bot was not invited to looks absent to the bot, as on Slack.
    assert "/invite @news-monitor" in line_of(lines, "#secret (watchlist secret)")
    assert lines[-1] == "check --online: 4 of 7 checks failed"

    world.slack.set_scopes(["chat:write", "chat:write.public", "channels:read", "groups:read"])
    _, lines = check_online(world, capsys)
    assert line_of(lines, "#outside (watchlist outside)") == (
        "  ok    #outside (watchlist outside): public, and the bot posts without joining (chat:write.public)"
    )
    assert world.slack.requests("chat.postMessage") == []


def test_a_channel_written_as_an_id_is_looked_up_by_id(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    world.watchlists[0]["channel"] = world.slack.channel_id("#china-tech")
    world.settings["slack"] = {"admin_channel": "C9999999"}
    code, lines = check_online(world, capsys)
    assert code == 1
    assert line_of(lines, "C0000002 (watchlist alibaba-military)") == (
        "  ok    C0000002 (watchlist alibaba-military): #china-tech: the bot is a member"
    )
    assert "no channel of that name or ID" in line_of(lines, "C9999999 (admin channel)")
    looked_up = sorted(r["body"]["channel"] for r in world.slack.requests("conversations.info"))
    assert looked_up == ["C0000002", "C9999999"]


def test_a_token_that_cannot_read_channels_is_told_which_scope_to_add(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    world.slack.set_scopes(["chat:write", "chat:write.public"])
    code, lines = check_online(world, capsys)
    assert code == 1
    first = line_of(lines, "#news-alerts (default channel)")
    assert "cannot check: the token lacks channels:read" in first and "add the channels:read scope" in first
    assert line_of(lines, "#china-tech (watchlist alibaba-military)").endswith("-> fix: as above")


def test_a_token_without_chat_write_cannot_post_anywhere(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    world.slack.set_scopes(["channels:read", "groups:read"])
    code, lines = check_online(world, capsys)
    assert code == 1
    assert "add the chat:write scope" in line_of(lines, "token")
    assert "the token cannot post (no chat:write)" in line_of(lines, "#news-alerts (default channel)")


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive"])
def test_a_dead_token_fails_first_and_says_how_to_fix_it(
    world: World, capsys: pytest.CaptureFixture[str], error: str
) -> None:
    serve_feed(world)
    world.slack.revoke_token(error=error)
    code, lines = check_online(world, capsys)
    assert code == 1
    token = line_of(lines, "token")
    assert f"auth.test answered {error} -> fix: " in token and "reinstall the Slack app" in token
    assert "not checked: the token does not work" in line_of(lines, "#news-alerts (default channel)")


def test_slack_out_of_reach_is_one_failure_with_its_cause(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    world.settings["slack"] = {"api_url": f"http://127.0.0.1:{port}/api/"}
    code, lines = check_online(world, capsys)
    assert code == 1
    assert f"cannot reach Slack at http://127.0.0.1:{port}/api/" in line_of(lines, "token")


def test_without_a_token_slack_is_not_checked_and_the_feeds_still_are(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    world.token = None
    code, lines = check_online(world, capsys)
    assert code == 0
    assert "Slack: not checked: $NEWS_MONITOR_TEST_TOKEN is not set" in "\n".join(lines)
    assert line_of(lines, "Chips (").startswith("  ok    ")


def test_each_feed_answers_once_with_a_one_line_verdict(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_feed(world)
    atom_item = {
        "title": "Old news",
        "link": world.web.url("/b.html"),
        "guid": "urn:b",
        "pub_date": hours_ago(24 * 5),
    }
    world.web.add("/atom.xml", atom_feed("Atom feed", [atom_item]), content_type="application/atom+xml")
    world.feeds.append({"url": world.web.url("/atom.xml"), "name": "Stale"})
    code, lines = check_online(world, capsys)
    assert code == 0  # a stale feed works: a warning, not a failure
    stale = line_of(lines, "Stale (")
    assert stale.startswith("  WARN  ") and "HTTP 200, Atom, 1 item, newest " in stale and "(5d ago)" in stale
    assert "nothing newer than poll.max_age (3d)" in stale

    world.web.add("/page.html", "<html><body><p>A web page</p></body></html>", content_type="text/html")
    world.feeds += [{"url": world.web.url("/page.html"), "name": "Page"}, {"url": world.web.url("/gone.xml")}]
    code, lines = check_online(world, capsys)
    assert code == 1
    page = line_of(lines, "Page (")
    assert page.startswith("  FAIL  ") and "the server sent a web page, not a feed" in page
    gone = line_of(lines, world.web.url("/gone.xml"))
    assert gone.startswith("  FAIL  ") and "HTTP 404 -> fix: no feed at this URL" in gone
    assert lines[-1] == "check --online: 2 of 7 checks failed"
    assert world.web.hits("/feed.xml") == 2 and world.web.hits("/gone.xml") == 1  # once per check
