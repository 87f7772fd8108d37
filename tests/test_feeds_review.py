"""An outside review of feed kinds and discovery, each finding tried through the real CLI on local servers.

A JSON Feed with sorted keys is the feed typed, not a web page; one vocabulary of kinds (ids in --json, one
label in text); a sitemap index is healthy when well-formed; discovery says where a redirect into a private
address came from without advising the guard away; `feeds add` says when the feed is on another host.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import monitor.cli.feeds
from monitor.cli.main import main
from monitor.http.client import HttpClient
from tests.support.feeds import rss_feed
from tests.support.web_server import WebServer
from tests.support.world import REPO_ROOT, World, hours_ago

SOURCES = REPO_ROOT / "tests" / "fixtures" / "sources"
PAGE = "<!DOCTYPE html><html><head><title>Home</title>{head}</head><body><p>Hi</p></body></html>"
MONITOR = """\
slack:
  default_channel: "#news-alerts"
fetch:
  timeout: 5s
  allow_private_addresses: {private}
  per_host_delay: 0s
feeds:
  - url: https://example.com/rss.xml
watchlists: watchlists.yaml
"""


def write_config(tmp_path: Path, *, private: bool = True) -> Path:
    watchlists = "watchlists:\n  - name: chips\n    channel: '#chips'\n    terms: [T-Head]\n"
    (tmp_path / "watchlists.yaml").write_text(watchlists, encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text(MONITOR.format(private="true" if private else "false"), encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def sorted_json_feed(site: str) -> str:
    """The JSON Feed 1.1 example with more items, written with sorted keys: `version` comes last."""
    feed = json.loads((SOURCES / "jsonfeed-1.1-example.json").read_text(encoding="utf-8"))
    template = feed["items"][0]
    feed["items"] = [
        {**template, "id": f"{site}/{n}", "url": f"{site}/{n}", "content_text": "T-Head " * 20}
        for n in range(30)
    ]
    return json.dumps(feed, sort_keys=True)


def news_sitemap_child(name: str) -> str:
    return (
        (SOURCES / "google-news-sitemap.xml").read_text(encoding="utf-8").replace("The Example Times", name)
    )


def sitemap_index(site: str) -> str:
    index = (SOURCES / "sitemaps-org-index.xml").read_text(encoding="utf-8")
    return index.replace("http://www.example.com", site).replace(".xml.gz", ".xml")


# -- 1: a JSON Feed whose version comes after 4 KB --


def test_add_of_a_sorted_key_json_feed_adds_that_feed_not_a_guessed_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    body = sorted_json_feed(web_server.base_url)
    assert body.index('"version"') > 4096
    url = web_server.add("/feed.json", body, content_type="application/feed+json")
    web_server.add("/index.xml", rss_feed("Unrelated", [{"title": "x", "link": web_server.url("/x")}]))
    config = write_config(tmp_path)
    code, out, err = cli(capsys, config, "feeds", "discover", url, "--json")
    assert code == 0, err
    [found] = json.loads(out)["feeds"]
    assert (found["url"], found["found"], found["kind"], found["items"]) == (
        url,
        "the URL itself",
        "json_feed",
        30,
    )
    code, out, err = cli(capsys, config, "feeds", "add", url)
    assert code == 0, err
    assert f"- url: {url}\n" in config.read_text(encoding="utf-8") and "index.xml" not in config.read_text()
    assert "JSON Feed, " in out and web_server.hits("/index.xml") == 0


# -- 2: one vocabulary, in check --online too --


def test_check_online_names_each_kind_as_discover_does(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    web = world.web
    json_feed = web.add("/feed.json", sorted_json_feed(web.base_url), content_type="application/feed+json")
    sitemap = web.add("/news.xml", news_sitemap_child("Times"), content_type="application/xml")
    world.feeds += [{"url": json_feed, "name": "J"}, {"url": sitemap, "name": "S"}]
    capsys.readouterr()
    world.run_cli("check", "--online")
    lines = capsys.readouterr().out.splitlines()
    [json_line] = [line for line in lines if " J (" in line]
    [sitemap_line] = [line for line in lines if " S (" in line]
    assert "HTTP 200, JSON Feed, 30 items" in json_line and "unknown format" not in json_line
    assert "HTTP 200, news sitemap, 1 item, newest 2008-12-23" in sitemap_line


# -- 3: a sitemap index is healthy when well-formed --


def test_add_of_a_sitemap_index_reports_its_children_and_names_it_after_its_news_sitemap(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    url = web_server.add("/sitemap.xml", sitemap_index(web_server.base_url), content_type="application/xml")
    web_server.add("/sitemap2.xml", news_sitemap_child("Harbour Daily"), content_type="application/xml")
    config = write_config(tmp_path)
    code, out, err = cli(capsys, config, "feeds", "add", url)
    assert code == 0, err
    assert "malformed" not in out and "0 items" not in out
    assert 'sitemap index, "Harbour Daily", 2 sitemaps listed, the most recent from 2005-01-01' in out
    assert "name: 'Harbour Daily' is the feed's title" in out
    assert "    name: Harbour Daily\n" in config.read_text(encoding="utf-8")
    assert web_server.hits("/sitemap1.xml") == 0  # only the most recent child is asked its name


def test_check_online_holds_for_a_well_formed_sitemap_index(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    url = world.web.add("/sitemap.xml", sitemap_index(world.web.base_url), content_type="application/xml")
    world.feeds.append({"url": url, "name": "Index"})
    capsys.readouterr()
    world.run_cli("check", "--online")
    [line] = [line for line in capsys.readouterr().out.splitlines() if " Index (" in line]
    assert line.startswith("  ok    "), line
    assert "sitemap index, 2 sitemaps listed, the most recent from 2005-01-01" in line
    assert "malformed" not in line and "0 items" not in line


def test_add_of_an_untitled_index_names_it_after_the_host_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    url = web_server.add("/sitemap.xml", sitemap_index(web_server.base_url), content_type="application/xml")
    code, out, err = cli(capsys, write_config(tmp_path), "feeds", "add", url)
    assert code == 0, err
    assert "sitemap index, no title, 2 sitemaps listed" in out
    assert "name: '127.0.0.1' is the feed's host: the feed gives no title (--name sets another)" in out


# -- 4: a redirect into a private address, found by discovery --


class SecondAddressServer(WebServer):
    bind_address = "127.0.0.2"


@pytest.fixture
def second() -> Iterator[WebServer]:
    with SecondAddressServer() as server:
        yield server


def only_first_loopback_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 stands for the public internet, 127.0.0.2 for a private network."""
    policy = functools.partial(HttpClient, address_policy=lambda address: address == "127.0.0.1")
    monkeypatch.setattr(monitor.cli.feeds, "HttpClient", policy)


def test_discovery_says_which_page_redirected_inward_and_does_not_advise_the_guard_away(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    web_server: WebServer,
    second: WebServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only_first_loopback_public(monkeypatch)
    inside = second.add("/feed.xml", rss_feed("Internal", []))
    declared = web_server.redirect("/feed.xml", inside, status=302)
    head = f'<link rel="alternate" type="application/rss+xml" href="{declared}">'
    home = web_server.add("/", PAGE.format(head=head))
    config = write_config(tmp_path, private=False)
    code, out, _ = cli(capsys, config, "feeds", "discover", home, "--json")
    assert code == 1
    reason = {row["url"]: row["reason"] for row in json.loads(out)["not_feeds"]}[declared]
    assert re.fullmatch(
        rf"the page at {re.escape(declared)} redirected to a private address "
        r"\(refusing (to connect to )?a non-public address 127\.0\.0\.2\); not followed",
        reason,
    )
    moved = web_server.redirect("/moved", second.url("/feed.xml"), status=301)
    code, out, err = cli(capsys, config, "feeds", "discover", moved)
    assert code == 1
    assert f"the page at {moved} redirected to a private address" in err
    assert "allow_private_addresses" not in out + err + reason and second.hits("/feed.xml") == 0


# -- 5: a feed on another host than the one typed --


def test_add_says_when_the_feed_is_on_another_host_than_the_one_typed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    items = [{"title": "T-Head", "link": web_server.url("/a"), "pub_date": hours_ago(1)}]
    feed = web_server.add("/feed.xml", rss_feed("Elsewhere", items)).replace("127.0.0.1", "localhost")
    head = f'<link rel="alternate" type="application/rss+xml" href="{feed}">'
    home = web_server.add("/", PAGE.format(head=head))
    config = write_config(tmp_path)
    code, out, err = cli(capsys, config, "feeds", "add", home, "--dry-run")
    assert code == 0, err
    assert f"+  - url: {feed}" in out
    assert "found on localhost, a different host from the address you typed (127.0.0.1)" in err
    code, out, _ = cli(capsys, config, "feeds", "add", home)
    assert code == 0 and "found on localhost, a different host" in out
    code, out, _ = cli(capsys, config, "feeds", "add", web_server.url("/feed.xml"))
    assert code == 0 and "different host" not in out


# -- 6: smaller things --


def test_a_title_mentioning_a_url_still_names_the_feed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    items = [{"title": "T-Head", "link": web_server.url("/a")}]
    url = web_server.add("/feed.xml", rss_feed("Why https:// matters", items))
    code, _, err = cli(capsys, write_config(tmp_path), "feeds", "add", url)
    assert code == 0, err
    assert "    name: Why https:// matters\n" in (tmp_path / "monitor.yaml").read_text(encoding="utf-8")


def test_feeds_test_of_a_broken_feed_gives_no_discover_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    doctype = '<!DOCTYPE rss [<!ENTITY a "T-Head">]>'
    url = web_server.add("/feed.xml", doctype + rss_feed("Wire", []).split("?>", 1)[1])
    code, _, err = cli(capsys, write_config(tmp_path), "feeds", "test", url)
    assert code == 1 and "entit" in err.lower()
    assert "feeds discover" not in err


def test_check_does_not_say_ok_when_a_watchlist_is_refused_for_search(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.add_feed("/feed.xml", rss_feed("Wire", []))
    world.settings["search"] = {"providers": ["gdelt"]}
    world.watchlists = [{"name": "ai", "channel": "#ai", "terms": ["AI"]}]
    capsys.readouterr()
    assert world.run_cli("check") == 1
    out = capsys.readouterr().out
    assert f"{world.config_path}: OK" not in out
    assert out.startswith(f"{world.config_path}: valid, but 1 watchlist(s) REFUSED for search (below)")


def test_status_without_feeds_says_so(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.settings["search"] = {"providers": ["gdelt"]}
    capsys.readouterr()
    assert world.run_cli("status") == 0
    out = capsys.readouterr().out
    assert out.startswith("FEEDS\n  no feeds configured\n")
