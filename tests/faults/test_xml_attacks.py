"""Hostile feeds: entity expansion and external entities are refused before any parser runs.

Memory is measured with tracemalloc, which sees what expat and feedparser allocate (pyexpat allocates
through Python's allocator). File access is watched with an audit hook, which sees every open(),
whichever library makes it; network access with the local web server's request log.
"""

from __future__ import annotations

import os
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import FeedError
from monitor.stages.poll import parse_feed
from monitor.stages.xml_guard import find_entity_declaration
from tests.support.feeds import rss_feed
from tests.support.web_server import WebServer
from tests.support.world import World, hours_ago

FEED_URL = "https://feeds.example/hostile.xml"
RSS_HEADERS = {"content-type": "application/rss+xml"}
REFUSED = "refused: the feed declares XML entities"
# Budgets for refusing an attack. Measured: ~0.1 MB and ~1 ms. Unguarded, the quadratic blowup
# below took 309 MB and 3.9 s (feedparser's loose parser expands it after expat gives up).
MAX_PEAK_BYTES = 50_000_000


def rss_with_prolog(prolog: str, *, title: str = "Alibaba news", description: str = "A story.") -> str:
    """An RSS 2.0 feed with `prolog` (a DOCTYPE, comments...) between the XML declaration and <rss>.

    Title and description are inserted raw, so they can reference entities.
    """
    return (
        f'<?xml version="1.0"?>\n{prolog}\n<rss version="2.0"><channel><title>Hostile</title>'
        "<link>https://feeds.example/</link><description>d</description>"
        f"<item><title>{title}</title><link>https://x.example/1</link><guid>h1</guid>"
        f"<description>{description}</description></item></channel></rss>"
    )


def billion_laughs(levels: int = 10, fanout: int = 10) -> str:
    """Each entity is ten of the one before: the last expands to 3 * 10**9 characters."""
    declarations = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * fanout}">' for level in range(1, levels)
    ]
    doctype = "<!DOCTYPE rss [\n" + "\n".join(declarations) + "\n]>"
    return rss_with_prolog(doctype, title=f"&lol{levels - 1};")


def quadratic_blowup(entity_chars: int = 10_000, references: int = 10_000) -> str:
    """One entity, no nesting, referenced many times: 60 kB of feed, 100 MB of text.

    Its value holds no `&`, which feedparser's own filter takes for a harmless entity.
    """
    doctype = f'<!DOCTYPE rss [\n<!ENTITY big "{"A" * entity_chars}">\n]>'
    return rss_with_prolog(doctype, description="&big;" * references)


@dataclass
class Cost:
    peak_bytes: int = 0


@contextmanager
def measured() -> Iterator[Cost]:
    """Peak traced memory of the block: the work a guard saves, whatever the machine's load.

    Their times are in bench/guards.py (a test asserts no wall-clock figure: CI's 2 cores are busy)."""
    cost = Cost()
    tracemalloc.start()
    try:
        yield cost
    finally:
        cost.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


# Audit hooks cannot be removed, so one hook serves every test and records only while a test watches.
_watching: list[tuple[int, list[str]]] = []


def _record_open(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _watching and isinstance(args[0], str | bytes):
        for thread, opened in _watching:
            if thread == threading.get_ident():
                opened.append(os.fsdecode(args[0]))


sys.addaudithook(_record_open)


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """The paths this thread opens inside the block."""
    opened: list[str] = []
    watcher = (threading.get_ident(), opened)
    _watching.append(watcher)
    try:
        yield opened
    finally:
        _watching.remove(watcher)


def test_billion_laughs_is_refused_in_little_memory_and_time() -> None:
    with measured() as cost, pytest.raises(FeedError, match=REFUSED) as refused:
        parse_feed(FEED_URL, billion_laughs().encode(), RSS_HEADERS)
    assert "<!ENTITY lol0" in refused.value.reason
    assert cost.peak_bytes < MAX_PEAK_BYTES, cost


def test_quadratic_blowup_is_refused_in_little_memory_and_time() -> None:
    with measured() as cost, pytest.raises(FeedError, match=REFUSED):
        parse_feed(FEED_URL, quadratic_blowup().encode(), RSS_HEADERS)
    assert cost.peak_bytes < MAX_PEAK_BYTES, cost


@pytest.mark.parametrize("system_id", ["secret-file", "/etc/passwd"])
def test_an_external_entity_naming_a_file_is_refused_without_opening_it(
    tmp_path: Path, system_id: str
) -> None:
    if system_id == "secret-file":
        path = tmp_path / "secret.txt"
        path.write_text("SECRET-TOKEN-7f3a\n")
    else:
        path = Path(system_id)
    doctype = f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{path.as_uri()}">\n]>'
    body = rss_with_prolog(doctype, title="Leak: &xxe;", description="&xxe;").encode()
    with files_opened() as opened, pytest.raises(FeedError, match=REFUSED):
        parse_feed(FEED_URL, body, RSS_HEADERS)
    assert str(path) not in opened


def test_an_external_entity_over_http_is_refused_without_a_request(web_server: WebServer) -> None:
    secret = web_server.add("/internal/secret.txt", "SECRET-TOKEN-7f3a", content_type="text/plain")
    doctype = f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{secret}">\n]>'
    body = rss_with_prolog(doctype, title="Leak: &xxe;").encode()
    with pytest.raises(FeedError, match=REFUSED):
        parse_feed(FEED_URL, body, RSS_HEADERS)
    assert web_server.requests() == []


def test_a_parameter_entity_pulling_in_a_remote_dtd_is_refused(web_server: WebServer) -> None:
    dtd = web_server.add("/evil.dtd", '<!ENTITY leak SYSTEM "file:///etc/passwd">', content_type="text/xml")
    doctype = f'<!DOCTYPE rss [\n<!ENTITY % remote SYSTEM "{dtd}">\n%remote;\n]>'
    with pytest.raises(FeedError, match=REFUSED) as refused:
        parse_feed(FEED_URL, rss_with_prolog(doctype, title="&leak;").encode(), RSS_HEADERS)
    assert "<!ENTITY % remote" in refused.value.reason
    assert web_server.requests() == []


def test_an_external_dtd_without_entities_parses_and_is_not_fetched(web_server: WebServer) -> None:
    dtd = web_server.add("/rss.dtd", "<!ELEMENT rss ANY>", content_type="text/xml")
    body = rss_with_prolog(f'<!DOCTYPE rss SYSTEM "{dtd}">').encode()
    _, [item], _ = parse_feed(FEED_URL, body, RSS_HEADERS)
    assert item.title == "Alibaba news"
    assert web_server.requests() == []


def test_rss_091_with_the_netscape_doctype_still_parses() -> None:
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        '  "http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    body = rss_with_prolog(doctype).replace('version="2.0"', 'version="0.91"').encode()
    title, [item], problem = parse_feed(FEED_URL, body, RSS_HEADERS)
    assert (title, item.title, item.link, problem) == ("Hostile", "Alibaba news", "https://x.example/1", None)


def test_entity_markup_quoted_in_an_article_does_not_refuse_the_feed() -> None:
    article = (
        "<![CDATA[<p>The exploit starts with <code><!ENTITY xxe SYSTEM 'file:///etc/passwd'></code></p>]]>"
    )
    body = rss_with_prolog("<!-- generated -->", description=article).encode()
    _, [item], _ = parse_feed(FEED_URL, body, RSS_HEADERS)
    assert "<!ENTITY xxe SYSTEM" in item.summary_text


ENTITY_DOCTYPE = '<!DOCTYPE rss [<!ENTITY name "Alibaba">]>'


def _declaring(encoding: str) -> str:
    return rss_with_prolog(ENTITY_DOCTYPE, title="&name; news").replace(
        '<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>'
    )


# Ways to hide a declaration from a scan of the raw bytes, or from a scan that stops at the first
# tag-like text (feedparser's own filter does, and misses all but the last few here).
HIDDEN_DECLARATIONS: dict[str, tuple[bytes, str]] = {
    "on one line with the DOCTYPE": (rss_with_prolog(ENTITY_DOCTYPE).encode(), ""),
    "after a comment holding a tag": (
        rss_with_prolog('<!-- <rss> --><!DOCTYPE rss [<!ENTITY big "x">]>').encode(),
        "",
    ),
    "after a system literal holding a tag": (
        rss_with_prolog('<!DOCTYPE rss SYSTEM "x<rss>.dtd" [<!ENTITY big "x">]>').encode(),
        "",
    ),
    "in a comment, for the loose parser": (
        rss_with_prolog('<!DOCTYPE rss>\n<!--\n<!ENTITY big "x">\n-->').encode(),
        "",
    ),
    "after a non-ASCII root-like tag": (
        rss_with_prolog('<!DOCTYPE rss>\n<é/>\n<!ENTITY big "x">').encode(),
        "",
    ),
    "after a 200 kB comment": (
        rss_with_prolog("<!--" + "padding " * 25_000 + "-->" + ENTITY_DOCTYPE).encode(),
        "",
    ),
    "in lower case": (rss_with_prolog('<!doctype rss [<!entity big "x">]>').encode(), ""),
    "in UTF-16 with a byte-order mark": (_declaring("utf-16").encode("utf-16"), ""),
    "in UTF-16LE without a byte-order mark": (_declaring("utf-16").encode("utf-16-le"), ""),
    "in UTF-16BE without a byte-order mark": (_declaring("utf-16").encode("utf-16-be"), ""),
    "in UTF-32": (_declaring("utf-32").encode("utf-32"), ""),
    "in UTF-8 with a byte-order mark": (_declaring("utf-8").encode("utf-8-sig"), ""),
    "in EBCDIC": (_declaring("cp037").encode("cp037"), ""),
    # UTF-7 writes `<` as `+ADw-`; Python's encoder leaves it as is, so these are written by hand.
    "in UTF-7 declared by the XML": (_declaring("utf-7").replace("<!ENTITY", "+ADw-!ENTITY").encode(), ""),
    "in UTF-7 declared by HTTP": (
        rss_with_prolog(ENTITY_DOCTYPE.replace("<!ENTITY", "+ADw-!ENTITY")).encode(),
        "application/rss+xml; charset=utf-7",
    ),
    "in UTF-16 declared by HTTP only": (
        rss_with_prolog(ENTITY_DOCTYPE).replace('<?xml version="1.0"?>\n', "").encode("utf-16-be"),
        "application/rss+xml; charset=utf-16be",
    ),
}


@pytest.mark.parametrize("body,content_type", HIDDEN_DECLARATIONS.values(), ids=HIDDEN_DECLARATIONS.keys())
def test_hidden_declarations_are_found(body: bytes, content_type: str) -> None:
    with pytest.raises(FeedError, match=REFUSED):
        parse_feed(FEED_URL, body, {"content-type": content_type or RSS_HEADERS["content-type"]})


CLEAN_FEED = rss_feed("Clean", [{"title": "Alibaba news", "link": "https://x.example/1"}])


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "utf-7", "cp037"]
)
def test_feeds_in_those_encodings_without_entities_still_parse(encoding: str) -> None:
    declared = "utf-16" if encoding.startswith("utf-16") else encoding.removesuffix("-sig")
    body = CLEAN_FEED.replace('encoding="utf-8"', f'encoding="{declared}"').encode(encoding)
    _, [item], _ = parse_feed(FEED_URL, body, RSS_HEADERS)
    assert item.title == "Alibaba news"


def test_a_body_that_names_a_file_is_read_as_text_not_opened(tmp_path: Path) -> None:
    # feedparser.parse(bytes) first tries open(bytes): a feed answering "/dev/zero" would read forever.
    local_feed = tmp_path / "local.xml"
    local_feed.write_text(rss_feed("Local file", [{"title": "SECRET-TOKEN-7f3a", "link": "https://x/1"}]))
    with files_opened() as opened, pytest.raises(FeedError, match="not a valid RSS/Atom feed"):
        parse_feed(FEED_URL, str(local_feed).encode(), RSS_HEADERS)
    assert str(local_feed) not in opened


def test_the_guard_costs_little_on_a_large_feed() -> None:
    items = [
        {"title": f"Story {i}", "link": f"https://x.example/{i}", "description": "<p>" + "text " * 200}
        for i in range(8_000)
    ]
    body = rss_feed("Large", items).encode()
    assert len(body) > 8_000_000
    with measured() as cost:
        assert find_entity_declaration(body, "application/rss+xml; charset=utf-8") is None
    # Only the prolog is decoded and scanned: the 8 MB body is never decoded whole (~1 ms, bench/guards.py).
    assert cost.peak_bytes < 5_000_000, cost


def test_a_long_hostile_prolog_is_scanned_to_its_end() -> None:
    body = b"<!" * 2_500_000 + b"<rss/>"  # 5 MB of empty declarations: one scan step each
    # Measured 1.4 s (bench/guards.py); feedparser itself takes 8.7 s on this body. A scan that went
    # quadratic in the declarations would take hours and trip the per-test limit (pyproject.toml).
    assert find_entity_declaration(body) is None


def test_hostile_feeds_fail_alone_and_leak_nothing(world: World, caplog: pytest.LogCaptureFixture) -> None:
    secret_file = world.folder / "secret.txt"
    secret_file.write_text("SECRET-TOKEN-7f3a\n")
    secret_url = world.web.add("/internal/secret.txt", "SECRET-TOKEN-9b1c", content_type="text/plain")
    xxe = (
        f'<!DOCTYPE rss [\n<!ENTITY file SYSTEM "{secret_file.as_uri()}">\n'
        f'<!ENTITY http SYSTEM "{secret_url}">\n]>'
    )
    hostile = {
        "/laughs.xml": billion_laughs(),
        "/quadratic.xml": quadratic_blowup(),
        "/xxe.xml": rss_with_prolog(xxe, title="Alibaba &file; &http;", description="&file; &http;"),
    }
    for path, body in hostile.items():
        world.add_feed(path, body)
    article = world.web.add(
        "/news/1.html",
        "<html><body><article>" + "<p>Alibaba opened a new office in Hangzhou this week.</p>" * 5,
    )
    world.add_feed(
        "/news.xml",
        rss_feed("News", [{"title": "Alibaba office", "link": article, "pub_date": hours_ago(1)}]),
    )
    with measured() as cost:
        assert world.once() == 0
    assert world.titles_posted() == ["Alibaba office"]
    refused = [r.getMessage() for r in caplog.records if REFUSED in r.getMessage()]
    assert {path for path in hostile if any(path in line for line in refused)} == set(hostile)
    assert world.web.hits("/internal/secret.txt") == 0
    stored = world.store.contents()
    assert b"SECRET-TOKEN" not in stored and "SECRET-TOKEN" not in str(world.slack.messages())
    assert cost.peak_bytes < MAX_PEAK_BYTES, cost
