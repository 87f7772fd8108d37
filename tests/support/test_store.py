"""The store fixture: each test's store is its own, and the service writes where the test reads."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_config
from monitor.storage import open_storage
from tests.support.feeds import rss_feed
from tests.support.store import Store
from tests.support.world import World

TABLES = {"feeds", "articles", "article_keys", "alerts"}


def test_a_store_opened_at_the_url_lands_in_this_tests_store(store: Store, tmp_path: Path) -> None:
    assert store.tables() == set()
    open_storage(store.url).close()
    assert store.tables() >= TABLES
    if store.backend == "sqlite":
        assert (tmp_path / "state" / "news-monitor.db").is_file()
    else:  # tables() looks in this test's schema only; the fixture fails the test if public got any
        assert store.rows("SELECT current_schema()") == [(store.schema,)]


def test_the_service_writes_the_store_the_world_names(world: World) -> None:
    world.add_feed("/feed.xml", rss_feed("Quiet", []))
    assert world.once() == 0
    assert load_config(world.config_path).storage_url == world.store.url
    assert world.store.tables() >= TABLES


def test_each_test_gets_an_empty_store(store: Store) -> None:
    assert store.tables() == set()  # the two tests above wrote theirs; nothing is left here
