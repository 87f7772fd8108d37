"""`feeds discover` on the blogging platforms of issue 16: each platform's own page and feed shapes
(tests/fixtures/discovery/README.md), served on a local web server.

Each home page is tested twice: as the platform prints it (the feed declared by `<link rel=alternate>`),
and with that declaration removed, as themes and templates sometimes do, where only the platform's
convention (its generator meta, asset hosts, REST API link) leads to the feed.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver

import monitor.http.client
from monitor.cli.main import main
from tests.support.web_server import WebServer
from tests.support.world import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "discovery"
RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml; charset=UTF-8"
MONITOR = """\
slack:
  default_channel: "#news-alerts"
fetch:
  timeout: 5s
  allow_private_addresses: true   # every site here is on 127.0.0.1
  per_host_delay: 0s
feeds:
  - url: https://example.com/rss.xml
watchlists:
  - name: chips
    channel: "#chips"
    terms: [T-Head]
"""
_DECLARED_FEED = re.compile(r"<link\b[^>]*\brel=[\"']alternate[\"'][^>]*>", re.I)


# (home page, feed, where the platform serves its feed, media type, kind, title, items)
PLATFORMS = {
    "WordPress": ("wordpress-home.html", "wordpress-feed.xml", "/feed/", RSS, "rss",
                  "Harbour Tech Notes", 3),
    "Ghost": ("ghost-home.html", "ghost-rss.xml", "/rss/", RSS, "rss", "Strait Signals", 2),
    "Blogger": ("blogger-home.html", "blogger-atom.xml", "/feeds/posts/default", ATOM, "atom",
                "Fab Watch", 1),
    "Substack": ("substack-home.html", "substack-feed.xml", "/feed", RSS, "rss",
                 "Cross-Strait Weekly", 1),
    "Hugo": ("hugo-home.html", "hugo-index.xml", "/index.xml", RSS, "rss", "Compute Notes", 1),
    "Jekyll": ("jekyll-home.html", "jekyll-feed.xml", "/feed.xml", ATOM, "atom", "Lithography Log", 1),
}  # fmt: skip


def fixture(name: str, site: str) -> str:
    """A fixture with its site (`https://news.example`) moved to `site`."""
    return (FIXTURES / name).read_text(encoding="utf-8").replace("https://news.example", site)


def undeclared(html: str) -> str:
    """The page without its `<link rel=alternate>` feed declarations."""
    stripped = _DECLARED_FEED.sub("", html)
    assert stripped != html, "the fixture declares no feed to remove"
    return stripped


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(MONITOR, encoding="utf-8")
    return path


def discover(capsys: pytest.CaptureFixture[str], config: Path, url: str) -> dict[str, Any]:
    code = main(["--config", str(config), "feeds", "discover", url, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    found: dict[str, Any] = json.loads(out)
    return found


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "convention"])
def test_each_platform_s_feed_is_found(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer, platform: str, declared: bool
) -> None:
    home, feed, path, media_type, kind, title, items = PLATFORMS[platform]
    page = fixture(home, web_server.base_url)
    web_server.add("/", page if declared else undeclared(page))
    web_server.add(path, fixture(feed, web_server.base_url), content_type=media_type)
    found = discover(capsys, config, web_server.url("/"))
    best = found["feeds"][0]
    assert (best["url"], best["kind"], best["title"], best["items"]) == (
        web_server.url(path),
        kind,
        title,
        items,
    )
    assert best["found"] == ("<link rel=alternate>" if declared else "the platform's feed path")
    # Found in the first round: the common paths are not guessed.
    assert web_server.hits("/rss.xml") == web_server.hits("/sitemap_news.xml") == 0


def wordpress_in_blog_folder(site: str, *, markers: bool) -> str:
    """WordPress installed in `/blog/` (home and siteurl `https://site/blog`), its feed links removed by
    the theme; `markers=False` also drops its REST API link and stylesheets: only the generator is left."""
    page = undeclared(fixture("wordpress-home.html", site + "/blog"))
    if not markers:
        page = "\n".join(
            line for line in page.splitlines() if "wp-json" not in line and "wp-includes" not in line
        )
    return page


def test_a_wordpress_blog_in_a_folder_has_its_feed_in_that_folder(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    web_server.add("/blog/", wordpress_in_blog_folder(web_server.base_url, markers=False))
    feed = fixture("wordpress-feed.xml", web_server.base_url + "/blog")
    web_server.add("/blog/feed/", feed, content_type=RSS)
    found = discover(capsys, config, web_server.url("/blog/"))
    best = found["feeds"][0]
    assert (best["url"], best["found"]) == (web_server.url("/blog/feed/"), "the platform's feed path")
    assert web_server.hits("/rss.xml") == 0


def test_a_wordpress_post_page_leads_to_the_blog_s_feed_by_its_rest_api_link(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    """A post's own `feed/` is its comments feed: the site's home comes from `rel=https://api.w.org/`."""
    post = "/blog/2024/01/05/alibaba-cloud-cuts-prices/"
    web_server.add(post, wordpress_in_blog_folder(web_server.base_url, markers=True))
    feed = fixture("wordpress-feed.xml", web_server.base_url + "/blog")
    web_server.add("/blog/feed/", feed, content_type=RSS)
    found = discover(capsys, config, web_server.url(post))
    best = found["feeds"][0]
    assert (best["url"], best["found"]) == (web_server.url("/blog/feed/"), "the platform's feed path")
    assert web_server.hits(post + "feed/") == 0 and web_server.hits("/feed/") == 0


class OnLoopback(AbstractResolver):
    """DNS for the test: each of `ports`' hosts is the local server (127.0.0.1, on its port), so a
    `http://medium.com/...` URL, port 80 as written, reaches it."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        if host not in self.ports:
            raise OSError(f"{host} is not a test host")
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [{"hostname": host, "host": "127.0.0.1", "port": self.ports[host], "family": socket.AF_INET,
                 "proto": 0, "flags": flags}]  # fmt: skip

    async def close(self) -> None:
        return None


@pytest.fixture
def medium_on_loopback(monkeypatch: pytest.MonkeyPatch, web_server: WebServer) -> str:
    """The HTTP client's sessions resolve medium.com to the local server; nothing else changes."""
    original: Callable[..., aiohttp.ClientSession] = monitor.http.client._new_session
    ports = {"medium.com": int(web_server.base_url.rpartition(":")[2])}

    def session(*args: Any, resolver: AbstractResolver | None = None, **kwargs: Any) -> aiohttp.ClientSession:
        return original(*args, resolver=resolver or OnLoopback(ports), **kwargs)

    monkeypatch.setattr(monitor.http.client, "_new_session", session)
    return "http://medium.com"


def test_a_medium_profile_s_feed_is_medium_com_feed_at_user(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer, medium_on_loopback: str
) -> None:
    site = medium_on_loopback
    web_server.add("/@harbourlin", fixture("medium-profile.html", site).replace("https://medium.com", site))
    feed = fixture("medium-feed.xml", site).replace("https://medium.com", site)
    web_server.add("/feed/@harbourlin", feed, content_type="text/xml; charset=UTF-8")
    found = discover(capsys, config, f"{site}/@harbourlin")
    best = found["feeds"][0]
    assert (best["url"], best["found"]) == (f"{site}/feed/@harbourlin", "the platform's feed path")
    assert (best["title"], best["items"]) == ("Stories by Harbour Lin on Medium", 1)


def test_a_medium_publication_on_its_own_domain_has_its_feed_at_feed(
    capsys: pytest.CaptureFixture[str], config: Path, web_server: WebServer
) -> None:
    """Not on medium.com: the page's miro.medium.com and cdn-client.medium.com assets say Medium."""
    site = web_server.base_url
    web_server.add("/", fixture("medium-profile.html", site).replace("https://medium.com/@harbourlin", site))
    web_server.add("/feed", fixture("medium-feed.xml", site), content_type="text/xml; charset=UTF-8")
    best = discover(capsys, config, web_server.url("/"))["feeds"][0]
    assert (best["url"], best["found"]) == (web_server.url("/feed"), "the platform's feed path")
    assert web_server.hits("/rss.xml") == 0
