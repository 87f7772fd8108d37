"""Relevance and routing: min_mentions with heavier headlines, priority, @here, feed tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import TermConfig, WatchlistConfig, load_config
from monitor.delivery.notifiers.slack_message import build_blocks, build_fallback_text
from monitor.errors import ConfigError
from monitor.models import Alert, Article
from monitor.stages.match import TITLE_WEIGHT, compile_watchlist, match_article


def watchlist(**settings: object) -> WatchlistConfig:
    return WatchlistConfig.model_validate({"name": "w", "terms": [TermConfig(term="Alibaba")], **settings})


def matches(text: str, title: str = "", tags: frozenset[str] = frozenset(), **settings: object) -> bool:
    compiled = compile_watchlist(watchlist(**settings), "#c")
    return bool(match_article(Article(url="u", title=title, text=text), [compiled], tags))


def test_min_mentions_counts_body_mentions() -> None:
    assert not matches("Alibaba once.", min_mentions=2)
    assert matches("Alibaba once. Alibaba twice.", min_mentions=2)


def test_a_headline_mention_weighs_more() -> None:
    assert TITLE_WEIGHT == 2
    assert matches("Nothing here.", title="Alibaba results", min_mentions=2)
    assert not matches("Nothing here.", title="Alibaba results", min_mentions=3)
    assert matches("Alibaba again.", title="Alibaba results", min_mentions=3)


def test_feed_tags_limit_a_watchlist() -> None:
    assert matches("Alibaba.", tags=frozenset({"china"}), feeds=["china"])
    assert not matches("Alibaba.", tags=frozenset({"markets"}), feeds=["china"])
    assert matches("Alibaba.", tags=frozenset(), feeds=None)


def test_notify_here_only_with_high_priority() -> None:
    with pytest.raises(ValueError, match="only allowed with priority: high"):
        watchlist(notify="here")
    assert watchlist(notify="here", priority="high").notify == "here"


def alert(priority: str, here: bool) -> Alert:
    article = Article(url="https://x.example/a", title="Alibaba <!channel>", text="")
    return Alert("#c", article, "Src", "Sum.", ("w",), ("Alibaba",), priority=priority, notify_here=here)


def test_priority_and_here_show_in_the_message() -> None:
    high = build_blocks(alert("high", True))[0]["text"]["text"]
    assert high.startswith("<!here> High priority: *<https://x.example/a|Alibaba &lt;!channel&gt;>*")
    assert build_fallback_text(alert("high", True)).startswith("<!here> High priority: ")
    low = build_blocks(alert("low", False))[0]["text"]["text"]
    assert low.startswith("Low priority: *<") and "<!here>" not in low
    assert build_blocks(alert("normal", False))[0]["text"]["text"].startswith("*<")


def test_watchlist_tags_must_exist(tmp_path: Path) -> None:
    (tmp_path / "monitor.yaml").write_text(
        'slack: {default_channel: "#a"}\nfeeds:\n  - {url: "https://x.example/rss", tags: [china]}\n'
        "watchlists:\n  - {name: w, terms: [Alibaba], feeds: [chian]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"no feed in monitor\.yaml has the tag 'chian'") as caught:
        load_config(tmp_path / "monitor.yaml")
    assert caught.value.key == "watchlists[0].feeds"
