"""The README's *Sources* walkthroughs, command for command: the files an operator writes, then the CLI
run on them as the README shows (no rewriting of monitor.yaml between commands: `feeds add` edits it).

- From zero to alerts with only watch terms: a watchlist, `search: providers: [gdelt]` (a local GDELT
  fake in GDELT's answer format), `check`, `once`.
- Adding a site by its homepage: `feeds discover`, `feeds add --dry-run`, `feeds add`, then `once`,
  `feeds list`, `feeds remove NAME`.
- Sitemaps for outlets without RSS: a site whose only source is a gzip news sitemap named in robots.txt.

Only what points the files at the local fakes (Slack, the store, the GDELT endpoint, private addresses
allowed for 127.0.0.1) is added to what the README shows.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from monitor.cli.main import main
from tests.sources.test_search_gdelt import GDELT_PATH, gdelt_answer
from tests.support.feeds import rss_feed
from tests.support.world import REPO_ROOT, World, hours_ago
from tests.test_once_sources import MATCHING_TITLE, OTHER_TITLE, news_sitemap, serve_pages

DISCOVERY = REPO_ROOT / "tests" / "fixtures" / "discovery"
RSS = "application/rss+xml; charset=UTF-8"
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")

WATCHLISTS = """\
watchlists:
  - name: alibaba
    channel: "#china-tech"
    terms: [Alibaba, T-Head]
"""


class Operator:
    """config/monitor.yaml and config/watchlists.yaml as written in the README, and the CLI run on them
    from the folder holding config/ (so without --config, as the README types the commands)."""

    def __init__(self, world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.world, self.capsys = world, capsys
        self.config = world.folder / "config" / "monitor.yaml"
        self.config.parent.mkdir()
        monkeypatch.chdir(world.folder)

    def write(self, sections: str) -> None:
        store = self.world.store
        local = f"""\
slack:
  token_env: NEWS_MONITOR_TEST_TOKEN
  api_url: {self.world.slack.api_url}
  default_channel: "#news-alerts"
  min_post_interval: 0s
storage: {store.config_url if store.backend == "postgresql" else store.url}
fetch:
  allow_private_addresses: true   # the sites of this test are on 127.0.0.1
  per_host_delay: 0s
"""
        self.config.write_text(local + sections, encoding="utf-8")
        (self.config.parent / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")

    def run(self, *args: str) -> tuple[int, str, str]:
        """`news-monitor ARGS`, config/monitor.yaml found by default."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.world.environment())
        os.environ.pop("NEWS_MONITOR_CONFIG", None)
        try:
            code = main(list(args))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        out, err = self.capsys.readouterr()
        return code, out, err

    def feeds_listed(self) -> dict[str, dict[str, Any]]:
        code, out, _ = self.run("feeds", "list", "--json")
        assert code == 0
        return {row["url"]: row for row in json.loads(out)}


@pytest.fixture
def operator(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Operator:
    return Operator(world, capsys, monkeypatch)


def readme_block(first_line: str) -> str:
    """The README's fenced block that starts with `first_line`."""
    found = re.search(rf"```yaml\n({re.escape(first_line)}\n.*?)```", README, re.S)
    assert found, f"README.md has no block starting {first_line!r}"
    return found.group(1)


def test_from_zero_to_alerts_with_only_watch_terms(world: World, operator: Operator) -> None:
    mint, weather = serve_pages(world)
    endpoint = world.web.add(
        GDELT_PATH, gdelt_answer([mint, weather]), content_type="application/json", conditional=False
    )
    # The README's two files, with the local fakes' addresses.
    assert readme_block("# config/watchlists.yaml") == "# config/watchlists.yaml\n" + WATCHLISTS
    shown = YAML(typ="safe").load(readme_block("# config/monitor.yaml"))
    assert shown["search"] == {"providers": ["gdelt"]} and "feeds" not in shown
    operator.write(
        f"search:\n  providers: {shown['search']['providers']}\n  endpoints: {{gdelt: {endpoint}}}\n"
        f"watchlists: {shown['watchlists']}\n"
    )
    code, out, _ = operator.run("check")
    assert code == 0
    assert 'alibaba: (Alibaba OR "T-Head")' in out and '      alibaba: (Alibaba OR "T-Head")\n' in README
    code, _, err = operator.run("once")
    assert code == 0
    assert world.titles_posted() == ["Alibaba fires back at allegations of assisting Chinese Military"]
    assert "alerts/sent=1" in err
    # The weather page GDELT also returned was read, and does not match: no alert.
    assert world.web.hits("/news/weather.html") == 1


def first_feed(world: World) -> str:
    """The feed monitor.yaml had before (an empty one on the local server)."""
    return world.web.add("/wire.xml", rss_feed("Wire", []), content_type=RSS)


def wordpress_site(world: World) -> None:
    site = world.web.base_url
    for path, name in (("/", "wordpress-home.html"), ("/feed/", "wordpress-feed.xml"),
                       ("/comments/feed/", "wordpress-comments.xml")):  # fmt: skip
        body = (DISCOVERY / name).read_text(encoding="utf-8").replace("https://news.example", site)
        world.web.add(path, body, content_type="text/html" if path == "/" else RSS)


def test_adding_a_site_by_its_homepage(world: World, operator: Operator) -> None:
    wordpress_site(world)
    operator.write(f"feeds:\n  - url: {first_feed(world)}   # the first feed\nwatchlists: watchlists.yaml\n")
    home, feed = world.web.url("/"), world.web.url("/feed/")
    code, out, _ = operator.run("feeds", "discover", home)
    assert code == 0
    assert out.splitlines()[:2] == [f"{home} offers 2 feeds, best first:", f"  1. {feed}"]
    assert out.rstrip().endswith(f"Add the best with: news-monitor feeds add {feed}")
    before = operator.config.read_text(encoding="utf-8")
    code, out, err = operator.run("feeds", "add", home, "--dry-run")
    assert code == 0 and operator.config.read_text(encoding="utf-8") == before
    assert f"+  - url: {feed}\n+    name: Harbour Tech Notes\n" in out
    assert "name: 'Harbour Tech Notes' is the feed's title (--name sets another)" in err
    code, out, _ = operator.run("feeds", "add", home)
    assert code == 0 and out.startswith(f"added the feed {feed} (Harbour Tech Notes) to ")
    assert operator.config.read_text(encoding="utf-8") == before.replace(
        "# the first feed\n", f"# the first feed\n  - url: {feed}\n    name: Harbour Tech Notes\n"
    )
    operator.run("once")
    row = operator.feeds_listed()[feed]
    assert (row["name"], row["kind"], row["state"], row["result"]) == (
        "Harbour Tech Notes",
        "rss",
        "ok",
        "3 items",
    )
    code, out, _ = operator.run("feeds", "remove", "Harbour Tech Notes", "--yes")
    assert code == 0 and out.startswith(f"removed the feed Harbour Tech Notes ({feed})")
    assert operator.config.read_text(encoding="utf-8") == before


def gzip_news_sitemap_site(world: World) -> str:
    """A site with no feed: its news sitemap is a gzip file (no Content-Encoding), named in robots.txt."""
    matching, other = serve_pages(world)
    urls = [(matching, MATCHING_TITLE, hours_ago(1)), (other, OTHER_TITLE, hours_ago(2))]
    body = gzip.compress(news_sitemap(urls).encode())
    sitemap = world.web.add("/news-sitemap.xml.gz", body, content_type="application/x-gzip")
    world.web.add("/", "<!DOCTYPE html><html><head><title>Times</title></head><body></body></html>")
    world.web.add(
        "/robots.txt", f"User-agent: *\nDisallow: /search\n\nSitemap: {sitemap}\n", content_type="text/plain"
    )
    return sitemap


def test_sitemaps_for_outlets_without_rss(world: World, operator: Operator) -> None:
    sitemap = gzip_news_sitemap_site(world)
    operator.write(f"feeds:\n  - url: {first_feed(world)}\nwatchlists: watchlists.yaml\n")
    code, out, _ = operator.run("feeds", "discover", world.web.url("/"))
    assert code == 0
    assert f"  1. {sitemap}\n" in out
    assert 'news sitemap, "The Example Times", 2 items' in out and "found: robots.txt Sitemap:" in out
    code, out, _ = operator.run("feeds", "add", world.web.url("/"))
    assert code == 0 and f"added the feed {sitemap} (The Example Times)" in out
    code, _, _ = operator.run("once")
    assert world.titles_posted() == [MATCHING_TITLE]
    row = operator.feeds_listed()[sitemap]
    assert (row["kind"], row["state"], row["result"]) == ("news_sitemap", "ok", "2 items")
