"""Secrets never shown, through the real outputs: `check`, `status` (text and JSON), `migrate`, `once`,
configuration errors, the Slack admin notice after a live edit, Slack alerts and GET /healthz.

Every secret is fenced by MARK (upper-case; hosts, paths and user names here are lower-case), so any
end of it that leaks leaks a MARK.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import string
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from monitor.cli.main import main
from monitor.config import load_config
from monitor.pipeline.feed_cycle import Pipeline
from monitor.service.assembly import with_pipeline
from monitor.service.ops import build_app
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

MARK = "QZX"
PAGE = "<html><body><article>" + "<p>Alibaba's cloud unit signed a deal with a provincial government.</p>" * 4
PAGE += "</article></body></html>"

# Any character of the Basic Multilingual Plane (JSON escapes the others as surrogate pairs, which YAML
# reads as two lone surrogates), but `$` (`${NAME}` is read from the environment).
any_password = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="$", max_codepoint=0xFFFF), max_size=16
)
# What a PostgreSQL driver accepts: printable ASCII, space and `/ @ : ? # % & =` included.
ascii_password = st.text(string.ascii_letters + string.digits + string.punctuation.replace("$", "") + " ",
                         max_size=16)  # fmt: skip
user_names = st.text(string.ascii_lowercase + string.digits + "-_.", max_size=8)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@st.composite
def store_urls(draw: st.DrawFn, password: st.SearchStrategy[str], *, port: int = 5432) -> str:
    secret = f"{MARK}{draw(password)}{MARK}"
    scheme = draw(st.sampled_from(["postgresql", "postgres", "postgresql+psycopg"]))
    user = draw(user_names)
    how = draw(st.sampled_from(["userinfo", "encoded", "query"]))
    if how == "query":
        return f"{scheme}://{user}@127.0.0.1:{port}/news?sslmode=disable&password={quote(secret, safe='')}"
    written = quote(secret, safe="") if how == "encoded" else secret
    return f"{scheme}://{user}:{written}@127.0.0.1:{port}/news"


def write_config(folder: Path, storage: str, **slack: Any) -> Path:
    monitor = {
        "slack": {"default_channel": "#news-alerts", "token_env": "NEWS_MONITOR_NO_TOKEN", **slack},
        "storage": storage,
        "feeds": [{"url": "https://news.example/rss.xml", "name": "Example"}],
        "watchlists": [{"name": "chips", "terms": ["Alibaba"]}],
    }
    path = folder / "monitor.yaml"
    path.write_text(json.dumps(monitor), encoding="utf-8")  # JSON is YAML; \u escapes keep any character
    return path


def run_cli(*args: str) -> tuple[int, str]:
    """The real CLI in this process; what it wrote to stdout and stderr together."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEWS_MONITOR_STORAGE", "SLACK_API_URL", "NEWS_MONITOR_NO_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.one_of(store_urls(any_password), store_urls(ascii_password)))
def test_check_never_shows_the_store_password(clean_environment: None, url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        code, output = run_cli("--config", str(write_config(Path(folder), url)), "check")
    assert MARK not in output
    if "@" in url.partition("://")[2].rpartition("@")[0]:  # a raw @ in the password: refused, saying why
        assert code == 2 and "%40" in output, output
    else:
        assert code == 0 and "127.0.0.1" in output, output


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=store_urls(ascii_password, port=closed_port()))
def test_status_migrate_and_once_never_show_the_password_of_an_unreachable_store(
    clean_environment: None, url: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = str(write_config(Path(folder), url))
        for command in (["status"], ["status", "--json"], ["migrate"], ["once"]):
            code, output = run_cli("--config", config, *command)
            assert code in (1, 2) and "storage" in output, output  # 2: a raw @ in the password
            assert MARK not in output, (command, output)


@pytest.mark.parametrize(
    "mistake",
    [
        {"storage": f"mysql://news:{MARK}s3/cr@t{MARK}@db.example/news"},
        {"storage": f"postgresql:/news:{MARK}s3cret{MARK}@db.example/news"},
        {"feeds": [{"url": f"ftp://reader:{MARK}to/ken{MARK}@feeds.example/rss"}]},
        {"feeds": [{"url": f"https://feeds.example/rss?api_key={MARK}k3y{MARK}", "interval": "soon"}]},
    ],
)
def test_configuration_errors_never_show_a_password(
    clean_environment: None, tmp_path: Path, mistake: dict[str, Any]
) -> None:
    path = write_config(tmp_path, "sqlite:///state/news-monitor.db")
    path.write_text(json.dumps({**json.loads(path.read_text()), **mistake}), encoding="utf-8")
    code, output = run_cli("--config", str(path), "check")
    assert code == 2 and "configuration error" in output, output
    assert MARK not in output


def test_a_feed_url_with_credentials_never_reaches_slack_status_or_the_log(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # No `name:` and a feed without <title>: the feed is named by its URL, which carries a token.
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": "Alibaba deal", "link": page, "guid": "1", "pub_date": hours_ago(1)}
    feed = world.web.add("/feed.xml", rss_feed("", [item]), content_type="application/rss+xml")
    secret_url = feed.replace("http://", f"http://reader:{MARK}hunter2{MARK}@") + f"?token={MARK}t0k{MARK}"
    world.feeds.append({"url": secret_url})
    assert world.once() == 0
    [alert] = world.slack.messages("#china-tech")
    assert "Alibaba deal" in alert["text"]
    assert MARK not in json.dumps(world.slack.messages())
    assert "http://***@127.0.0.1" in json.dumps(alert)  # the source line: the masked URL

    assert world.run_cli("status") == 0
    assert world.run_cli("status", "--json") == 0
    output = capfd.readouterr()
    assert MARK not in output.out + output.err
    assert "http://***@127.0.0.1" in output.out


def test_once_never_logs_a_feed_password_holding_a_slash(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": "Alibaba deal", "link": page, "guid": "1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed("Good", [item]), name="Good")
    broken = world.web.url("/feed.xml").replace("http://", f"http://reader:{MARK}pa/ss{MARK}@")
    world.feeds.append({"url": broken, "name": "Broken"})
    world.once()
    assert world.run_cli("status") == 0
    output = capfd.readouterr()
    assert "feed.failed" in output.err
    assert MARK not in output.out + output.err


def test_healthz_never_shows_the_store_password_while_the_store_is_down(world: World) -> None:
    world.add_feed("/feed.xml", rss_feed("Good", []), name="Good")
    world.write_config()
    down = (
        f"postgresql+psycopg://news:{MARK}pa/ss{MARK}@127.0.0.1:{closed_port()}/news?password={MARK}x{MARK}"
    )

    async def probe(pipeline: Pipeline) -> tuple[int, str]:
        # The store goes down after start: the same storage object, its database now unreachable.
        storage: Any = pipeline.storage
        engine, url = storage.engine, storage.url
        storage.engine, storage.url = create_engine(down), down
        try:
            async with (
                TestServer(build_app(pipeline)) as server,
                aiohttp.ClientSession() as session,
                session.get(server.make_url("/healthz")) as response,
            ):
                return response.status, await response.text()
        finally:
            storage.engine.dispose()
            storage.engine, storage.url = engine, url

    status, body = asyncio.run(with_pipeline(load_config(world.config_path), probe))
    health = json.loads(body)
    assert status == 503 and health["store_writable"] is False
    assert "127.0.0.1" in health["store_error"]
    assert MARK not in body


def wait_for(condition: Callable[[], bool], *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def admin_notice_after_a_live_edit(world: World, edit: Callable[[], None]) -> tuple[dict[str, Any], str]:
    """`run` as a real process with an admin channel; `edit` changes the world's configuration, which is
    then written while the service runs. Returns the one admin notice and the service's log."""
    world.slack.add_channel("#ops")
    world.settings["slack"] = {"admin_channel": "#ops"}
    world.add_feed("/feed.xml", rss_feed("Good", []), name="Good", interval="1s")
    service = world.spawn("run")
    try:
        assert wait_for(lambda: bool(world.web.requests("/feed.xml")), seconds=30)  # running
        edit()
        world.write_config()
        wait_for(lambda: bool(world.slack.messages("#ops")), seconds=20)
    finally:
        service.terminate()
        _, log = service.communicate(timeout=15)
    [notice] = world.slack.messages("#ops")
    return notice, log


def test_a_refused_live_edit_never_shows_a_password_in_the_admin_notice(world: World) -> None:
    def edit() -> None:
        world.settings["storage"] = f"mysql://news:{MARK}s3/cr@t{MARK}@db.example/news"

    notice, log = admin_notice_after_a_live_edit(world, edit)
    assert "refused" in notice["text"] and "storage" in notice["text"]
    assert MARK not in notice["text"] and MARK not in log
