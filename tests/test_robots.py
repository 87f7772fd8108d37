"""robots.txt: RFC 9309 groups and matching, one entry per site as the HTTP library reads it, a bounded
cache, and reading and checking off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.http import robots
from monitor.http.client import HttpClient
from monitor.http.robots import (
    MAX_ROBOTS_BYTES,
    MAX_WILDCARD_RULES,
    RULES_CHECKED_ON_LOOP,
    RobotsCache,
    read_site_rules,
    read_target,
)
from tests.support.web_server import WebServer

RULES = """\
User-agent: googlebot
Disallow: /

User-agent: *
Disallow: /private/
Allow: /private/open
Disallow: /*.pdf$
Disallow: /search*q=
Sitemap: https://example.com/sitemap.xml
"""


def allows(robots_txt: str, path: str, agent: str = "news-monitor") -> bool:
    return read_site_rules(robots_txt.encode(), agent, expires=0).allows(path)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/private/x", False),
        ("/private/open", True),  # the longer (more specific) rule wins
        ("/private/opened/x", True),
        ("/paper.pdf", False),
        ("/paper.pdf?download=1", True),  # `$` anchors the end
        ("/search/news?q=alibaba", False),  # `*` spans any characters
        ("/search/news", True),
    ],
)
def test_the_star_group_applies_when_no_group_names_us(path: str, allowed: bool) -> None:
    assert allows(RULES, path) is allowed


def test_a_group_naming_us_replaces_the_star_group_whatever_its_case_and_version() -> None:
    text = RULES + "\nUser-agent: News-Monitor/2.1\nDisallow: /mine\n"
    assert not allows(text, "/mine/1")
    assert allows(text, "/private/x")  # the `*` group does not apply to us any more
    assert allows(RULES + "\nUser-agent: news-monitor\nDisallow:\n", "/private/x")  # named, no rule


def test_an_allow_wins_a_tie_and_non_ascii_paths_compare_as_octets() -> None:
    assert allows("User-agent: *\nDisallow: /page\nAllow: /page\n", "/page")
    for spelling in ("/ñews/1", "/%c3%b1ews/1", "/%C3%B1ews/1"):
        target = read_target(f"https://example.com{spelling}")
        assert target is not None and not allows("User-agent: *\nDisallow: /ñews/\n", target[1])


def test_groups_are_split_by_a_user_agent_line_after_rules() -> None:
    text = "User-agent: *\nDisallow: /a\nUser-agent: other\nDisallow: /b\n"
    assert not allows(text, "/a") and allows(text, "/b")


_USERINFO = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)


@given(user=_USERINFO, password=st.none() | _USERINFO, upper=st.booleans(), port=st.sampled_from(["", ":80"]))
def test_user_info_case_and_default_port_never_make_another_site(
    user: str, password: str | None, upper: bool, port: str
) -> None:
    host = "NEWS.Example.com" if upper else "news.example.com"
    credentials = f"{user}:{password}" if password is not None else user
    target = read_target(f"http://{credentials}@{host}{port}/story/1")
    assert target == ("http://news.example.com", "/story/1")


def test_a_full_width_host_is_the_site_the_http_library_connects_to() -> None:
    assert read_target("http://１２７．0．0．1:8080/a") == ("http://127.0.0.1:8080", "/a")


def run_checks(urls: list[str], **cache: int) -> RobotsCache:
    async def go() -> RobotsCache:
        async with HttpClient(timeout=5, user_agent="test", allow_private_addresses=True) as http:
            checker = RobotsCache(http, **cache)
            for url in urls:
                await checker.allows(url)
            return checker

    return asyncio.run(go())


@pytest.fixture
def sites() -> Iterator[list[WebServer]]:
    """Twelve sites (one port each), each with a robots.txt of ~3,000 rules."""
    servers = [WebServer().start() for _ in range(12)]
    for number, server in enumerate(servers):
        rules = "".join(f"Disallow: /site{number}/section{n}/\n" for n in range(3_000))
        server.add("/robots.txt", "User-agent: *\n" + rules, content_type="text/plain")
    yield servers
    for server in servers:
        server.stop()


def test_the_cache_is_bounded_in_sites(sites: list[WebServer]) -> None:
    checker = run_checks([server.url(f"/story/{n}") for server in sites for n in range(2)], max_sites=5)
    assert len(checker.cache) == 5
    assert [server.hits("/robots.txt") for server in sites] == [1] * 12  # one fetch per site and run


def test_the_cache_is_bounded_in_bytes(sites: list[WebServer]) -> None:
    checker = run_checks([server.url("/story") for server in sites], max_bytes=1_000_000)
    assert 1 <= len(checker.cache) < 12
    assert checker.cache.bytes <= 1_000_000


def test_links_with_different_user_info_share_one_robots_txt() -> None:
    with WebServer() as server:
        server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        port = server.base_url.rsplit(":", 1)[1]
        urls = [f"http://u{n}:secret@127.0.0.1:{port}/private/{n}" for n in range(40)]
        checker = run_checks([*urls, f"http://LOCALHOST:{port}/x", f"http://localhost:{port}/y"])
        assert server.hits("/robots.txt") == 2  # 127.0.0.1 and localhost: two names, two sites
        assert len(checker.cache) == 2
        assert "authorization" not in server.requests("/robots.txt")[0]["headers"]


# -- CPU: reading off the event loop, checks that stay cheap -----------------------------------------


def big_robots_txt(line: str) -> str:
    lines, size, n = ["User-agent: *"], 14, 0
    while size < MAX_ROBOTS_BYTES - 100:
        lines.append(line.format(n=n))
        size += len(lines[-1]) + 1
        n += 1
    return "\n".join(lines) + "\n"


def test_a_512_kib_robots_txt_is_read_in_a_thread_and_checked_in_a_few_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readers: list[int] = []
    original = robots.read_site_rules

    def spy(*args: object) -> robots.SiteRules:
        readers.append(threading.get_ident())
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(robots, "read_site_rules", spy)
    with WebServer() as server:
        text = big_robots_txt("Disallow: /archive/{n}/")
        server.add("/robots.txt", text, content_type="text/plain")
        checker = run_checks([server.url("/archive/17/x"), server.url("/story")])
        [rules] = checker.cache._sites.values()
    assert readers and threading.get_ident() not in readers
    assert len(rules.plain) > 20_000
    # A check looks up one prefix per distinct rule length, not each of the 20,000+ rules.
    assert rules.work <= 10 < RULES_CHECKED_ON_LOOP
    assert not rules.allows("/archive/17/x") and rules.allows("/story")


def test_wildcard_rules_are_bounded_in_what_a_check_may_cost() -> None:
    rules = read_site_rules(big_robots_txt("Disallow: /*a{n}*b$").encode(), "news-monitor", expires=0)
    assert rules.work <= MAX_WILDCARD_RULES and not rules.allows("/story")  # too many: disallow all
    few = read_site_rules(b"User-agent: *\nDisallow: /*.pdf$\n", "news-monitor", expires=0)
    assert few.work == 1 and few.allows("/story")
