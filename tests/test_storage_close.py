"""Closing the store closes every connection, also one a worker thread still uses at that moment.

Cancelling `asyncio.to_thread` at shutdown leaves its thread running: a storage call may give its
connection back after `close()`. Left to the garbage collector, psycopg warned about it at a random later
moment (it failed an unrelated test once, in a CI-like run on PostgreSQL)."""

from __future__ import annotations

import gc
import sqlite3
import sys
import threading
from typing import Any

import pytest
import sqlalchemy

from monitor.storage import open_storage
from tests.support.store import Store


def is_closed(dbapi_connection: Any) -> bool:
    if isinstance(dbapi_connection, sqlite3.Connection):
        try:
            dbapi_connection.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            return True
        return False
    return bool(dbapi_connection.closed)


def test_a_connection_in_use_when_the_store_closes_is_closed_when_given_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage(store.url)
    in_use, closing = threading.Event(), threading.Event()
    used: list[Any] = []

    def storage_call_in_a_thread() -> None:
        with storage.engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
            used.append(connection.connection.dbapi_connection)
            in_use.set()
            closing.wait(timeout=30)

    worker = threading.Thread(target=storage_call_in_a_thread)
    worker.start()
    assert in_use.wait(timeout=30)
    storage.close()  # while the thread still holds its connection
    closing.set()
    worker.join(timeout=30)
    assert is_closed(used[0])

    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    used.clear()  # the driver's connection now belongs to nobody: collected, it must not be open
    gc.collect()
    assert [u.exc_value for u in unraisable] == []
