"""Migrations (alembic) on the store under test, `news-monitor migrate`, and `migrate --from` a SQLite store.

Run on SQLite and, in the PostgreSQL pass, on PostgreSQL: the same revisions build both.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from monitor.cli.main import main
from monitor.errors import StorageError
from monitor.storage import ArticleKey, ArticleRecord, PollSuccess, QueuedAlert, open_storage
from monitor.storage.migrate import REVISIONS, VERSION_TABLE, alembic_config, head_revision
from monitor.storage.schema import metadata
from tests.support.store import Store

NOW = datetime.now(UTC)


def write_config(folder: Path, storage_url: str) -> Path:
    config = {
        "slack": {"token_env": "NEWS_MONITOR_NO_TOKEN", "default_channel": "#a"},
        "storage": storage_url,
        "feeds": [{"url": "https://feeds.example/rss"}],
        "watchlists": [{"name": "w", "terms": ["Alibaba"]}],
    }
    path = folder / "monitor.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def migration_context(conn: Connection) -> MigrationContext:
    """alembic's own view of the store (not ours in migrate.py), under our version table's name."""
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})


def fill(url: str) -> None:
    """A store with what a running service leaves: a feed's schedule, articles, a sent and a pending alert."""
    storage = open_storage(url)
    try:
        poll = PollSuccess(title="Feed", etag='"e1"', last_modified=None, result="2 items", next_poll_at=NOW)
        storage.record_poll_successes([("https://feeds.example/rss", poll, NOW)])
        for n in (1, 2):
            record = ArticleRecord("https://feeds.example/rss", f"g{n}", f"https://news.example/{n}", None,
                                   f"Alibaba {n}", "text", NOW, NOW, f"fp{n}", "alerted", source="Feed",
                                   signature=bytes(8), bands=(f"b{n}",), story_keys=(f"k{n}",))  # fmt: skip
            keys, alerts = [ArticleKey("url", record.url)], [QueuedAlert("#a", "{}")]
            result = storage.record_article(record, keys, alerts)
            if n == 1:
                storage.mark_alert_sent(result.outbox[0].id, ts="1.5", at=NOW)
    finally:
        storage.close()


def test_the_migrations_build_exactly_the_tables_the_code_uses(store: Store) -> None:
    open_storage(store.url).close()
    with store.engine.connect() as conn:
        assert compare_metadata(migration_context(conn), metadata) == []
        assert migration_context(conn).get_current_revision() == head_revision()


def test_migrate_creates_a_new_store_and_then_has_nothing_to_do(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, store.url)
    assert main(["--config", str(config), "migrate"]) == 0
    assert f"none (new store) -> revision {head_revision()}" in capsys.readouterr().out
    assert main(["--config", str(config), "migrate"]) == 0
    assert f"schema already at revision {head_revision()}" in capsys.readouterr().out


def test_a_store_behind_is_upgraded_on_sqlite_and_refused_until_migrate_on_postgresql(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")  # what the previous release made
    if store.backend == "sqlite":
        open_storage(store.url).close()  # one process owns the file: upgraded in place
    else:
        # Instances of the old version may still run against a shared store: only the operator migrates.
        with pytest.raises(StorageError, match=r"is at schema revision 0002, .* Run `news-monitor --config"):
            open_storage(store.url)
        assert main(["--config", str(write_config(tmp_path, store.url)), "migrate"]) == 0
        assert f"schema 0002 -> revision {head_revision()}" in capsys.readouterr().out
        open_storage(store.url).close()
    with store.engine.connect() as conn:
        assert migration_context(conn).get_current_revision() == head_revision()


def test_migrate_from_copies_a_sqlite_store_and_the_copy_remembers_everything(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old" / "news-monitor.db"
    fill(f"sqlite:///{old}")
    config = write_config(tmp_path, store.url)
    assert main(["--config", str(config), "migrate", "--from", f"sqlite:///{old}"]) == 0
    out = capsys.readouterr().out
    assert "feeds 1, articles 2, article_keys 2, near_dup_bands 2, story_keys 2, alerts 2" in out
    copied = open_storage(store.url)
    try:
        # Seen stays seen (no alert again), the pending alert is still to send, the sent one is not.
        assert copied.find_seen_key([ArticleKey("url", "https://news.example/2")]) is not None
        assert [(e.article_id, e.status) for e in copied.outbox_entries(("pending", "sent"))] == [
            (1, "sent"),
            (2, "pending"),
        ]
        assert copied.get_feed_state("https://feeds.example/rss").etag == '"e1"'  # type: ignore[union-attr]
        # New rows get new ids after the copied ones (PostgreSQL's sequences moved past them).
        record = ArticleRecord("https://feeds.example/rss", "g3", "https://news.example/3", None, "Alibaba 3",
                               "text", NOW, NOW + timedelta(seconds=1), "fp3", "alerted")  # fmt: skip
        result = copied.record_article(record, [ArticleKey("url", record.url)], [QueuedAlert("#a", "{}")])
        assert result.article_id == 3 and result.outbox[0].id == 3
    finally:
        copied.close()
    # A second copy would mix two histories: refused, and nothing is written.
    assert main(["--config", str(config), "migrate", "--from", f"sqlite:///{old}"]) == 1
    assert "already holds rows in feeds, articles" in capsys.readouterr().err


def test_migrate_from_the_store_itself_is_refused(store: Store, tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, store.url)
    assert main(["--config", str(config), "migrate", "--from", store.url]) == 1
    assert "the source is the configured store itself" in capsys.readouterr().err


def test_a_database_holding_other_tables_is_not_migrated(store: Store, tmp_path: Path, capsys) -> None:
    store.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    assert main(["--config", str(write_config(tmp_path, store.url)), "migrate"]) == 1
    assert "holds tables that are not a news-monitor store's" in capsys.readouterr().err
    assert store.tables() == {"invoices"}


def test_the_revisions_the_store_is_checked_against_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert tuple(reversed([rev.revision for rev in script.walk_revisions()])) == REVISIONS
    assert script.get_current_head() == head_revision()


def test_migrate_from_a_missing_store_is_refused_and_creates_nothing(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, store.url)
    assert main(["--config", str(config), "migrate", "--from", "sqlite:///old/news-monitor.db"]) == 1
    assert "there is no SQLite store at" in capsys.readouterr().err
    assert not (tmp_path / "old").exists()


def test_migrate_from_leaves_an_old_release_store_as_it_was(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as db:  # a store made by the first release, with a pending alert
        db.executescript((Path(__file__).parent / "fixtures" / "store-v1.sql").read_text(encoding="utf-8"))
    before = old.read_bytes()
    assert (
        main(["--config", str(write_config(tmp_path, store.url)), "migrate", "--from", f"sqlite:///{old}"])
        == 0
    )
    assert "articles 2" in capsys.readouterr().out
    assert old.read_bytes() == before  # still what the old release reads: copied from a snapshot
    copied = open_storage(store.url)
    try:
        assert [entry.payload for entry in copied.due_alerts(datetime.now(UTC))] == ['{"pending": true}']
    finally:
        copied.close()


def test_instances_starting_together_on_an_empty_store_create_it_once(store: Store) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_it() -> None:
        start.wait()
        try:
            open_storage(store.url).close()
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert store.rows(f"SELECT version_num FROM {VERSION_TABLE}") == [(head_revision(),)]
