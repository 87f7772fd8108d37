"""Shared fixtures: a local web server for feeds/pages, a local fake of the Slack Web API, and the store.

The store is a SQLite file in the test's tmp_path, or, with NEWS_MONITOR_TEST_POSTGRES set to a database
URL, a fresh schema in that PostgreSQL database (tests/support/store.py). Tests about SQLite itself carry
the `sqlite_only` marker and are skipped on PostgreSQL.

Test support is imported as ``tests.support.<module>``; the repo root goes on sys.path here so that works
whatever import mode or rootdir pytest picks.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import Engine, create_engine  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from monitor.logs import mask_credentials  # noqa: E402
from tests.support.slack_fake import SlackFake  # noqa: E402
from tests.support.socket_mode_fake import SocketModeFake  # noqa: E402
from tests.support.store import (  # noqa: E402
    POSTGRES_ENV,
    Store,
    postgres_base_url,
    postgres_store,
    public_tables,
    sqlite_store,
)
from tests.support.web_server import WebServer  # noqa: E402
from tests.support.world import World  # noqa: E402

ALERT_CHANNELS = ("#news-alerts", "#china-tech")

# Property-based tests judge behaviour, never speed: no per-example deadline (CI's 2 cores are often busy),
# and a fixed derandomised run so a red CI run can be replayed example for example.
settings.register_profile("news-monitor", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("news-monitor")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): about SQLite itself (its file, its journal, its path); "
        f"skipped when {POSTGRES_ENV} runs the suite on PostgreSQL",
    )


# A handler that cannot write (its stream was closed under it) prints "--- Logging error ---" and a
# traceback, and the line is lost; the suite's output once held eight. Each one now fails its test.
_logging_errors: list[str] = []
_print_logging_error = logging.Handler.handleError


def _record_logging_error(handler: logging.Handler, record: logging.LogRecord) -> None:
    _logging_errors.append(f"{record.name} {record.getMessage()[:200]!r}: {sys.exc_info()[1]!r}")
    _print_logging_error(handler, record)


logging.Handler.handleError = _record_logging_error  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def no_logging_errors() -> Iterator[None]:
    before = len(_logging_errors)
    yield
    if len(_logging_errors) > before:
        pytest.fail("a log handler failed to write: " + "; ".join(_logging_errors[before:]), pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    base = postgres_base_url()
    if base is None:
        return f"store: SQLite, a file per test (set {POSTGRES_ENV} to a database URL for PostgreSQL)"
    return f"store: PostgreSQL {mask_credentials(base)}, a schema per test; sqlite_only tests skipped"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if postgres_base_url() is None:
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "about SQLite itself"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}"))


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | None]:
    """An engine on the PostgreSQL test database that creates and drops the tests' schemas; None on SQLite."""
    base = postgres_base_url()
    if base is None:
        yield None
        return
    engine = create_engine(base, pool_size=1)
    try:
        leaked = public_tables(engine)
    except SQLAlchemyError as exc:
        pytest.exit(f"{POSTGRES_ENV}: cannot reach {mask_credentials(base)}: {exc}", returncode=3)
    assert not leaked, f"the test database's public schema already holds tables: {sorted(leaked)}"
    yield engine
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path, postgres_admin: Engine | None) -> Iterator[Store]:
    """This test's own empty store: state/news-monitor.db in tmp_path, or a new PostgreSQL schema."""
    if postgres_admin is None:
        sqlite = sqlite_store(tmp_path)
        yield sqlite
        sqlite.close()
        return
    with postgres_store(postgres_admin, str(postgres_base_url())) as postgres:
        yield postgres
    leaked = public_tables(postgres_admin)
    assert not leaked, f"tables landed in the public schema, not in {postgres.schema}: {sorted(leaked)}"


@pytest.fixture
def slack_fake() -> Iterator[SlackFake]:
    """A running SlackFake with #news-alerts and #china-tech registered (bot is a member of both)."""
    with SlackFake(channels=ALERT_CHANNELS) as fake:
        yield fake


@pytest.fixture
def web_server() -> Iterator[WebServer]:
    """A running WebServer with no routes; add them with ``web_server.add(path, body, ...)``."""
    with WebServer() as server:
        yield server


@pytest.fixture
def world(tmp_path: Path, web_server: WebServer, slack_fake: SlackFake, store: Store) -> Iterator[World]:
    """A World (config on disk, the CLI run against web_server, slack_fake and store) in tmp_path."""
    yield World(tmp_path, web_server, slack_fake, store)


@pytest.fixture
def sockets(world: World) -> Iterator[SocketModeFake]:
    """Slack's Socket Mode (tests/support/socket_mode_fake.py), and the world's app-level token for it:
    `run` connects and its alerts carry buttons."""
    with SocketModeFake(world.slack) as fake:
        world.app_token = world.slack.app_token
        yield fake
