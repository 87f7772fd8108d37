"""`feeds add` names a feed after its title; `feeds list` shows each feed's kind and last result, as a
real poll stored them; `feeds discover` reads gzip sitemaps served as files (no Content-Encoding)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from monitor.cli.main import main
from tests.support.feeds import rss_feed
from tests.support.web_server import WebServer
from tests.support.world import REPO_ROOT, World, hours_ago
from tests.test_once_sources import fixture as source_fixture
from tests.test_once_sources import news_sitemap

DISCOVERY = REPO_ROOT / "tests" / "fixtures" / "discovery"
RSS = "application/rss+xml; charset=UTF-8"
GZIP = "application/x-gzip"
HEAD = """\
slack:
  default_channel: "#news-alerts"
fetch:
  allow_private_addresses: true   # every site here is on 127.0.0.1
  per_host_delay: 0s
watchlists:
  - name: chips
    terms: [T-Head]
"""


def write_config(tmp_path: Path, feeds: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(HEAD + feeds, encoding="utf-8")
    return path


def feeds(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "feeds", *args])
    out, err = capsys.readouterr()
    return code, out, err


def serve_feed(web: WebServer, path: str, title: str) -> str:
    items = [{"title": "T-Head news", "link": web.url("/a/1"), "pub_date": hours_ago(1)}]
    return web.add(path, rss_feed(title, items), content_type=RSS)


# -- add: the name --


def test_add_without_name_names_the_feed_after_its_title_so_remove_takes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    first = serve_feed(web_server, "/first.xml", "Wire")
    config = write_config(tmp_path, f"feeds:\n  - url: {first}\n")
    url = serve_feed(web_server, "/feed.xml", "Harbour Tech Notes")
    code, out, _ = feeds(capsys, config, "add", url)
    assert code == 0
    assert "    name: Harbour Tech Notes\n" in config.read_text(encoding="utf-8")
    assert "name: 'Harbour Tech Notes' is the feed's title (--name sets another)" in out
    assert "`news-monitor feeds remove 'Harbour Tech Notes'` removes it" in out
    code, _, _ = feeds(capsys, config, "remove", "Harbour Tech Notes", "--yes")
    assert code == 0 and url not in config.read_text(encoding="utf-8")


def test_a_title_another_feed_is_named_gets_a_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    first = serve_feed(web_server, "/first.xml", "Wire")
    config = write_config(tmp_path, f"feeds:\n  - url: {first}\n    name: WIRE\n")
    second, third = serve_feed(web_server, "/2.xml", "Wire"), serve_feed(web_server, "/3.xml", "Wire")
    assert feeds(capsys, config, "add", second)[0] == 0
    code, out, err = feeds(capsys, config, "add", third, "--dry-run")
    assert code == 0
    assert f"+  - url: {third}\n+    name: Wire (3)\n" in out
    assert "name: 'Wire (3)' is the feed's title (--name sets another)" in err
    assert "    name: Wire (2)\n" in config.read_text(encoding="utf-8")


def test_a_hostile_title_is_cleaned_into_one_short_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    first = serve_feed(web_server, "/first.xml", "Wire")
    config = write_config(tmp_path, f"feeds:\n  - url: {first}\n")
    title = "Breaking\u202e txet desrever\u200b " + "very " * 30 + "long"
    url = serve_feed(web_server, "/feed.xml", title)
    assert feeds(capsys, config, "add", url)[0] == 0
    [name_line] = [
        line for line in config.read_text(encoding="utf-8").splitlines() if line.startswith("    name:")
    ]
    name = name_line.split("name: ", 1)[1]
    assert name.startswith("Breaking txet desrever very very") and name.endswith("very…")
    assert len(name) <= 60 and "\u202e" not in name and "\u200b" not in name


def test_name_wins_over_the_title(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    first = serve_feed(web_server, "/first.xml", "Wire")
    config = write_config(tmp_path, f"feeds:\n  - url: {first}\n")
    url = serve_feed(web_server, "/feed.xml", "Harbour Tech Notes")
    code, out, _ = feeds(capsys, config, "add", url, "--name", "Harbour")
    assert code == 0 and "is the feed's title" not in out
    text = config.read_text(encoding="utf-8")
    assert "    name: Harbour\n" in text and "Harbour Tech Notes" not in text


def test_add_to_a_config_with_news_search_and_no_feeds_starts_the_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    config = write_config(tmp_path, "search:\n  providers: [gdelt]\n")
    url = serve_feed(web_server, "/feed.xml", "Harbour Tech Notes")
    assert feeds(capsys, config, "add", url)[0] == 0
    assert config.read_text(encoding="utf-8").endswith(
        f"feeds:\n  - url: {url}\n    name: Harbour Tech Notes\n"
    )
    code, _, err = feeds(capsys, config, "remove", url, "--yes")
    assert code == 0, err  # search alone is a valid config: the last feed may go
    assert url not in config.read_text(encoding="utf-8")


# -- list: kinds and results from a real poll --


def test_list_shows_each_feed_s_kind_and_last_result_after_a_poll(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    web = world.web
    rss = world.add_feed(
        "/feed.xml", rss_feed("Wire", [{"title": "T", "link": web.url("/a/1")}]), name="Wire"
    )
    sitemap = web.add(
        "/news.xml", news_sitemap([(web.url("/a/2"), "Other", hours_ago(1))]), content_type="application/xml"
    )
    json_feed = web.add(
        "/feed.json", source_fixture("jsonfeed-1.1-example.json"), content_type="application/feed+json"
    )
    page = web.add("/page.html", "<!DOCTYPE html><html><body>Hi</body></html>")
    world.feeds += [{"url": sitemap}, {"url": json_feed}, {"url": page}]
    capsys.readouterr()
    assert world.run_cli("feeds", "list", "--json") == 0
    before = {row["url"]: row for row in json.loads(capsys.readouterr().out)}
    assert {url: (row["kind"], row["result"]) for url, row in before.items()} == dict.fromkeys(
        [rss, sitemap, json_feed, page], (None, None)
    )
    world.once()
    capsys.readouterr()
    assert world.run_cli("feeds", "list", "--json") == 0
    rows = {row["url"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows[rss]["kind"], rows[rss]["result"], rows[rss]["state"]) == ("rss", "1 item", "ok")
    assert (rows[sitemap]["kind"], rows[sitemap]["result"]) == ("news_sitemap", "1 item")
    assert (rows[json_feed]["kind"], rows[json_feed]["result"]) == ("json_feed", "2 items")
    assert rows[page]["kind"] is None and rows[page]["state"] == "failing"
    assert "the server sent a web page, not a feed" in rows[page]["result"]
    assert world.run_cli("feeds", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "URL", "KIND", "LAST", "POLL", "LAST", "RESULT"]
    by_url = {line.split()[1]: line for line in lines[1:]}
    # The text says the kinds as discover and check --online do (stages/feed_kind.kind_label).
    assert re.match(rf"Wire +{re.escape(rss)} +RSS +\S+ ago +1 item$", by_url[rss])
    assert re.search(r" news sitemap +\S+ ago +1 item$", by_url[sitemap])
    assert re.search(r" JSON Feed +\S+ ago +2 items$", by_url[json_feed])
    assert re.search(rf"{re.escape(page)} +- ", by_url[page])


# -- discover: gzip sitemaps served as files --


def test_discover_reads_a_gzip_sitemap_index_typed_as_the_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    config = write_config(tmp_path, "search:\n  providers: [gdelt]\n")
    index = source_fixture("sitemaps-org-index.xml").replace("http://www.example.com", web_server.base_url)
    url = web_server.add("/sitemap.xml.gz", gzip.compress(index.encode()), content_type=GZIP)
    code, out, _ = feeds(capsys, config, "discover", url, "--json")
    assert code == 0
    [found] = json.loads(out)["feeds"]
    assert (found["url"], found["found"], found["kind"]) == (url, "the URL itself", "sitemap_index")
    # Well-formed: no problem; its children counted, dated by the most recent one.
    assert (found["problem"], found["sitemaps"], found["items"]) == (None, 2, 0)
    assert found["newest"] == "2005-01-01T00:00:00+00:00"
    # Its name is asked of its most recent sitemap (robots.txt first); here that one is missing: no title.
    assert found["title"] == ""
    assert web_server.hits("/sitemap.xml.gz") == web_server.hits("/sitemap2.xml.gz") == 1
    assert web_server.hits("/sitemap1.xml.gz") == 0


def test_discover_reads_a_gzip_news_sitemap_at_a_usual_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, web_server: WebServer
) -> None:
    config = write_config(tmp_path, "search:\n  providers: [gdelt]\n")
    web_server.add("/", "<!DOCTYPE html><html><head><title>Times</title></head><body></body></html>")
    sitemap = news_sitemap([(web_server.url("/a/1"), "T-Head", hours_ago(1))])
    url = web_server.add("/sitemap_news.xml", gzip.compress(sitemap.encode()), content_type=GZIP)
    code, out, _ = feeds(capsys, config, "discover", web_server.url("/"), "--json")
    assert code == 0
    [found] = json.loads(out)["feeds"]
    assert (found["url"], found["kind"], found["items"]) == (url, "news_sitemap", 1)
    assert found["title"] == "The Example Times"
