"""`news-monitor feeds discover|add|list|remove|test` against sites on a local web server.

The sites have the shapes real software prints (tests/fixtures/discovery/README.md): a WordPress home
page declaring its feeds, a site whose only source is a news sitemap named in robots.txt, and a site
whose feed sits at WordPress's `/feed/` without being declared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli.main import main
from tests.support.feeds import rss_feed
from tests.support.web_server import WebServer
from tests.support.world import REPO_ROOT, World, hours_ago

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "discovery"
RSS = "application/rss+xml; charset=UTF-8"
PLAIN_PAGE = "<!DOCTYPE html><html><head><title>Harbour</title></head><body><p>Welcome.</p></body></html>"

MONITOR = """\
# yaml-language-server: $schema=monitor.schema.json
slack:
  default_channel: "#news-alerts"
fetch:
  timeout: 5s
  allow_private_addresses: true   # every site here is on 127.0.0.1
  per_host_delay: 0s

feeds:
  # Wires
  - url: https://example.com/rss.xml   # the first one
    name: Example wire
  - url: https://example.net/atom.xml
    tags: [china]
  # - url: https://example.org/off.xml   (paused)

watchlists: watchlists.yaml
# end
"""

WATCHLISTS = """\
watchlists:
  - name: alibaba-military
    channel: "#china-tech"
    terms: [Alibaba, T-Head]
"""


def fixture(name: str, web: WebServer) -> str:
    """A fixture with its site's host pointed at the local server."""
    return (FIXTURES / name).read_text(encoding="utf-8").replace("https://news.example", web.base_url)


def wordpress_site(web: WebServer) -> None:
    web.add("/", fixture("wordpress-home.html", web))
    web.add("/feed/", fixture("wordpress-feed.xml", web), content_type=RSS)
    web.add("/comments/feed/", fixture("wordpress-comments.xml", web), content_type=RSS)


def sitemap_only_site(web: WebServer) -> str:
    web.add("/", PLAIN_PAGE)
    sitemap = web.add("/sitemaps/news.xml", fixture("news-sitemap.xml", web), content_type="application/xml")
    robots = f"User-agent: *\nDisallow: /search/\n\nSitemap: {sitemap}\n"
    web.add("/robots.txt", robots, content_type="text/plain")
    return sitemap


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text(MONITOR, encoding="utf-8")
    return path


def feeds(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "feeds", *args])
    out, err = capsys.readouterr()
    return code, out, err


def discover(capsys: pytest.CaptureFixture[str], config: Path, url: str) -> dict:
    code, out, err = feeds(capsys, config, "discover", url, "--json")
    assert code == 0, err
    return json.loads(out)


# -- discover --


def test_discover_reads_link_rel_alternate_and_ranks_the_comments_feed_last(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    wordpress_site(web_server)
    found = discover(capsys, config, web_server.url("/"))
    first, second = found["feeds"]
    assert first["url"] == web_server.url("/feed/")
    assert (first["kind"], first["title"], first["items"]) == ("rss", "Harbour Tech Notes", 3)
    assert first["version"] == "2.0"
    assert first["newest"] == "2024-01-05T09:12:44+00:00"
    assert (first["found"], first["comments"]) == ("<link rel=alternate>", False)
    assert second["url"] == web_server.url("/comments/feed/") and second["comments"] is True
    # The page declared its feeds: no path is guessed.
    assert web_server.hits("/rss.xml") == web_server.hits("/sitemap_news.xml") == 0


def test_discover_text_names_the_best_feed_and_how_to_add_it(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    wordpress_site(web_server)
    code, out, _ = feeds(capsys, config, "discover", web_server.url("/"))
    assert code == 0
    assert f"1. {web_server.url('/feed/')}\n" in out
    assert f"2. {web_server.url('/comments/feed/')}  (comments)" in out
    assert 'RSS 2.0, "Harbour Tech Notes", 3 items, newest 2024-01-05 09:12 UTC' in out
    assert out.rstrip().endswith(f"news-monitor feeds add {web_server.url('/feed/')}")


def test_discover_finds_a_news_sitemap_named_only_in_robots_txt(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    sitemap = sitemap_only_site(web_server)
    found = discover(capsys, config, web_server.url("/"))
    [only] = found["feeds"]
    assert only["url"] == sitemap
    assert (only["kind"], only["title"], only["items"]) == ("news_sitemap", "The Example Times", 1)
    assert (only["found"], only["newest"]) == ("robots.txt Sitemap:", "2008-12-23T00:00:00+00:00")
    # No feed was declared, so the common paths were asked, and each says why it is no feed.
    reasons = {item["url"]: item["reason"] for item in found["not_feeds"]}
    assert reasons[web_server.url("/feed/")] == "HTTP 404"
    assert web_server.hits("/robots.txt") == 1


def test_discover_finds_an_undeclared_wordpress_feed_at_feed_slash(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    web_server.add("/", PLAIN_PAGE)
    web_server.add("/feed/", fixture("wordpress-feed.xml", web_server), content_type=RSS)
    found = discover(capsys, config, web_server.url("/"))
    [best] = found["feeds"]
    assert (best["url"], best["found"], best["items"]) == (web_server.url("/feed/"), "a common feed path", 3)


def test_discover_reads_a_declared_json_feed(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    link = '<link rel="alternate" type="application/feed+json" title="JSON" href="/feed.json">'
    web_server.add("/", f"<html><head>{link}</head><body></body></html>")
    web_server.add("/feed.json", fixture("json-feed.json", web_server), content_type="application/feed+json")
    [feed] = discover(capsys, config, web_server.url("/"))["feeds"]
    assert (feed["kind"], feed["title"], feed["items"]) == ("json_feed", "My Example Feed", 2)


def test_discover_of_a_feed_url_is_that_feed_and_asks_nothing_else(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    url = web_server.add("/feed/", fixture("wordpress-feed.xml", web_server), content_type=RSS)
    found = discover(capsys, config, url)
    assert [(f["url"], f["found"]) for f in found["feeds"]] == [(url, "the URL itself")]
    assert len(web_server.requests()) == 1 and found["requests"] == 1


def test_a_site_with_no_feed_exits_1_saying_what_was_tried(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    web_server.add("/", PLAIN_PAGE)
    web_server.add("/rss.xml", PLAIN_PAGE)  # a guessed path answering with a web page, status 200
    code, out, _ = feeds(capsys, config, "discover", web_server.url("/"))
    assert code == 1
    assert out.startswith(f"No feed found at {web_server.url('/')}.")
    assert "the server sent a web page, not a feed" in out


def test_robots_txt_disallowing_a_candidate_keeps_it_unfetched(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    wordpress_site(web_server)
    web_server.add("/robots.txt", "User-agent: *\nDisallow: /comments/\n", content_type="text/plain")
    found = discover(capsys, config, web_server.url("/"))
    assert [f["url"] for f in found["feeds"]] == [web_server.url("/feed/")]
    assert web_server.hits("/comments/feed/") == 0
    [refused] = found["not_feeds"]
    assert refused["reason"] == (
        "found, but the site's robots.txt disallows fetching it; if the site is yours, add it anyway: "
        f"news-monitor feeds add {web_server.url('/comments/feed/')}"
    )


# -- add --


def test_add_appends_the_discovered_feed_keeping_comments_and_order(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    wordpress_site(web_server)
    options = ["--name", "Harbour", "--tags", "china, chips", "--interval", "5m"]
    code, out, err = feeds(capsys, config, "add", web_server.url("/"), *options)
    assert code == 0, err
    assert f"added the feed {web_server.url('/feed/')} (Harbour)" in out
    assert "found as <link rel=alternate>" in out
    # Right after the last feed, as `watch add` puts a term: the commented-out one stays below.
    expected = MONITOR.replace(
        "    tags: [china]\n",
        "    tags: [china]\n"
        f"  - url: {web_server.url('/feed/')}\n"
        "    name: Harbour\n"
        "    interval: 5m\n"
        "    tags: [china, chips]\n",
    )
    assert config.read_text(encoding="utf-8") == expected


def test_add_of_a_sitemap_only_site_adds_its_news_sitemap(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    sitemap = sitemap_only_site(web_server)
    code, _, err = feeds(capsys, config, "add", web_server.url("/"))
    assert code == 0, err
    assert f"  - url: {sitemap}\n" in config.read_text(encoding="utf-8")


def test_add_dry_run_shows_the_diff_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    web_server.add("/", PLAIN_PAGE)
    web_server.add("/feed/", fixture("wordpress-feed.xml", web_server), content_type=RSS)
    code, out, err = feeds(capsys, config, "add", web_server.url("/"), "--dry-run")
    assert code == 0
    assert f"+  - url: {web_server.url('/feed/')}" in out
    assert "dry run: nothing was written" in err
    assert config.read_text(encoding="utf-8") == MONITOR
    assert sorted(p.name for p in config.parent.iterdir()) == ["monitor.yaml", "watchlists.yaml"]


def test_add_refuses_a_feed_already_configured_before_any_request(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    code, _, err = feeds(capsys, config, "add", "https://EXAMPLE.com:443/rss.xml/")
    assert code == 2
    assert "https://EXAMPLE.com:443/rss.xml/ is already a feed in" in err
    assert "monitor.yaml:11 (name: Example wire); nothing was added" in err
    assert config.read_text(encoding="utf-8") == MONITOR


def test_add_refuses_a_discovered_feed_already_configured(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    wordpress_site(web_server)
    assert feeds(capsys, config, "add", web_server.url("/feed/"))[0] == 0
    code, _, err = feeds(capsys, config, "add", web_server.url("/"))
    assert code == 2
    assert f"{web_server.url('/feed/')} is already a feed" in err


def test_add_of_a_site_without_feeds_fails_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    web_server.add("/", PLAIN_PAGE)
    code, _, err = feeds(capsys, config, "add", web_server.url("/"))
    assert code == 1
    assert "no feed found at" in err and "feeds discover URL" in err
    assert config.read_text(encoding="utf-8") == MONITOR


def test_add_refuses_an_invalid_interval(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(config), "feeds", "add", "https://example.org/", "--interval", "often"])
    assert exit_.value.code == 2
    assert "--interval" in capsys.readouterr().err
    assert config.read_text(encoding="utf-8") == MONITOR


# -- remove --


def test_remove_needs_yes_and_then_removes_the_feed_by_name(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, _, err = feeds(capsys, config, "remove", "Example wire")
    assert code == 2
    assert "this removes the feed Example wire (https://example.com/rss.xml)" in err and "--yes" in err
    assert config.read_text(encoding="utf-8") == MONITOR
    code, out, _ = feeds(capsys, config, "remove", "Example wire", "--yes")
    assert code == 0 and "removed the feed Example wire" in out
    text = config.read_text(encoding="utf-8")
    assert "example.com/rss.xml" not in text
    assert "  # Wires\n" in text and "  - url: https://example.net/atom.xml\n" in text
    assert text.endswith("# end\n")


def test_remove_by_url_dry_run_writes_nothing(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, err = feeds(capsys, config, "remove", "https://example.net/atom.xml", "--dry-run")
    assert code == 0
    assert "-  - url: https://example.net/atom.xml" in out and "nothing was written" in err
    assert config.read_text(encoding="utf-8") == MONITOR


def test_remove_of_an_unknown_feed_names_close_ones(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = feeds(capsys, config, "remove", "Example wir", "--yes")
    assert code == 2
    assert "no feed named or at 'Example wir'" in err and "did you mean 'Example wire'" in err


def test_removing_the_only_feed_is_refused(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    assert feeds(capsys, config, "remove", "Example wire", "--yes")[0] == 0
    code, _, err = feeds(capsys, config, "remove", "https://example.net/atom.xml", "--yes")
    assert code == 2
    assert "it is the only feed" in err
    assert "https://example.net/atom.xml" in config.read_text(encoding="utf-8")


# -- list and test, on a world that has polled --


def test_list_shows_each_feed_and_its_last_result(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    items = [{"title": "Alibaba opens a lab", "link": world.web.url("/a/1"), "pub_date": hours_ago(1)}]
    polled = world.add_feed("/feed.xml", rss_feed("Wire", items), name="Wire")
    never = world.web.url("/later.xml")
    world.feeds.append({"url": never})
    world.once()
    capsys.readouterr()
    assert world.run_cli("feeds", "list", "--json") == 0
    rows = {row["url"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[polled]["name"] == "Wire" and rows[polled]["state"] == "ok"
    assert rows[polled]["result"] and rows[polled]["last_poll"]
    assert rows[never]["state"] == "failing" and "404" in rows[never]["result"]
    assert world.run_cli("feeds", "list") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["NAME", "URL", "KIND", "LAST", "POLL", "LAST", "RESULT"]
    assert "Wire" in out and "404" in out


def test_test_shows_what_the_watchlists_match_among_the_items(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [
        {"title": "Alibaba opens a lab", "link": world.web.url("/a/1"), "pub_date": hours_ago(1)},
        {"title": "Weather", "description": "Rain.", "link": world.web.url("/a/2"), "pub_date": hours_ago(2)},
        {"title": "Old news", "description": "T-Head then.", "link": world.web.url("/a/3"),
         "pub_date": hours_ago(24 * 30)},
    ]  # fmt: skip
    url = world.web.add("/other.xml", rss_feed("Other wire", items), content_type=RSS)
    world.add_feed("/feed.xml", rss_feed("Wire", []))
    assert world.run_cli("feeds", "test", url) == 0
    out = capsys.readouterr().out
    assert '"Other wire", 3 items' in out
    assert "2 of 3 items match the current watchlists" in out
    assert "Alibaba opens a lab\n" in out and "alibaba-military -> #china-tech: Alibaba" in out
    assert "Old news  (older than poll.max_age: would not alert)" in out
    assert "Weather" not in out
    assert world.web.hits("/a/1") == 0  # the feed's own text: no article page is fetched


def test_test_of_a_web_page_suggests_discover(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    page = world.web.add("/", PLAIN_PAGE)
    world.add_feed("/feed.xml", rss_feed("Wire", []))
    assert world.run_cli("feeds", "test", page) == 1
    err = capsys.readouterr().err
    assert "the server sent a web page, not a feed" in err
    assert err.count("feeds discover") == 1 and f"`news-monitor feeds discover {page}`" in err
