"""`search:` in monitor.yaml: absent changes nothing; bad values are refused with what to fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError


def load(tmp_path: Path, **monitor: Any) -> Any:
    config = {
        "slack": {"token_env": "NEWS_MONITOR_NO_TOKEN", "default_channel": "#a"},
        "storage": "sqlite:///state.db",
        "watchlists": [{"name": "w", "terms": ["Alibaba"]}],
        **monitor,
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return load_config(path)


def problem(tmp_path: Path, **monitor: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, **monitor)
    return str(raised.value)


def test_absent_search_is_no_search_and_feeds_are_then_required(tmp_path: Path) -> None:
    assert load(tmp_path, feeds=[{"url": "https://a.example/rss"}]).search is None
    assert "add `search:`" in problem(tmp_path)
    assert "add `search:`" in problem(tmp_path, feeds=[])


def test_search_with_no_feeds_and_its_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, search={"providers": ["gdelt"]})
    assert config.feeds == ()
    assert config.search.interval.total_seconds() == 15 * 60
    assert config.search.endpoint("gdelt") == "https://api.gdeltproject.org/api/v2/doc/doc"
    assert config.search.endpoint("google_news") == "https://news.google.com/rss/search"
    assert config.search.endpoint("bing_news") == "https://www.bing.com/news/search"
    assert config.watchlists[0].search is True
    edition = config.search.google_news
    assert (edition.hl, edition.gl, edition.ceid) == ("en-US", "US", "US:en")


def test_every_provider_of_the_contract_is_accepted(tmp_path: Path) -> None:
    config = load(tmp_path, search={"providers": ["gdelt", "google_news", "bing_news"]})
    assert config.search.providers == ["gdelt", "google_news", "bing_news"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ({"providers": ["gdelt", "yahoo"]}, "'gdelt', 'google_news' or 'bing_news'"),
        ({"providers": []}, "at least 1 item"),
        ({"providers": ["gdelt", "gdelt"]}, "listed twice"),
        (
            {"providers": ["google_news"], "google_news": {"hl": "en-US", "gl": "US", "ceid": "GB:en"}},
            "names another country than gl 'US'",
        ),
        (
            {"providers": ["google_news"], "google_news": {"hl": "de", "gl": "DE", "ceid": "DE:en"}},
            "names another language than hl 'de'",
        ),
        (
            {"providers": ["google_news"], "google_news": {"hl": "en-US", "gl": "us", "ceid": "US:en"}},
            "write it in capitals",
        ),
        ({"providers": ["google_news"], "google_news": {"ceid": "US-en", "gl": "US"}}, "COUNTRY:language"),
        ({"providers": ["gdelt"], "interval": "1m"}, "greater than or equal to"),
        ({"providers": ["gdelt"], "endpoints": {"gdelt": "ftp://x"}}, "expected an http:// or https:// URL"),
        ({"providers": ["gdelt"], "endpoints": {"gdelt_news": "https://x"}}, "gdelt_news"),
    ],
)
def test_bad_search_settings_are_refused(tmp_path: Path, search: dict[str, Any], expected: str) -> None:
    message = problem(tmp_path, search=search)
    assert expected in message
    assert "no feeds to poll" not in message  # the search setting is what to fix, not the feeds
