"""The ops endpoint under hostile clients: half-finished requests, trickled headers, idle connections,
and a process out of file descriptors, against `news-monitor run` in a real process.

What is promised (README "Operations"): a client that does not send its request within
ops.header_timeout, or sends nothing within ops.idle_timeout after a response, is disconnected; at most
ops.max_connections connections are open, so ops clients cannot take the descriptors the service needs;
/healthz keeps answering; an accept that fails is logged once per burst. Bounds here are counts and
"eventually, within a generous deadline" with one-second timeouts configured, never a speed.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from monitor.ops_listener import is_loopback_address
from tests.support.feeds import rss_feed
from tests.support.world import REPO_ROOT, World, hours_ago

# Generous: the configured timeouts are one second, and CI's two cores are busy.
EVENTUALLY = 30.0
HALF_FINISHED = b"GET /healthz HTTP/1.1\r\n"
# Descriptors the service may open meanwhile for its own work (a keep-alive to the feed server, Slack).
DESCRIPTOR_SLACK = 10


def article(topic: str) -> str:
    paragraph = f"<p>{topic}: Alibaba's cloud unit signed a deal with a provincial government.</p>"
    return f"<html><body><article>{paragraph * 4}</article></body></html>"


def add_feed(world: World, name: str) -> None:
    link = world.web.add(f"/{name}.html", article(name), content_type="text/html")
    item = {"title": f"Alibaba deal ({name})", "link": link, "guid": name, "pub_date": hours_ago(1)}
    world.add_feed(f"/{name}.xml", rss_feed(name, [item]), name=name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ops_settings(port: int, **extra: object) -> dict[str, object]:
    return {"enabled": True, "port": port, "header_timeout": "1s", "idle_timeout": "1s", **extra}


@contextmanager
def running(world: World, log: Path, open_files: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`news-monitor run` with its log in a file (a pipe nobody reads would block a chatty process),
    optionally with RLIMIT_NOFILE lowered so descriptor exhaustion is reachable with a few sockets."""
    world.write_config()

    def limit_open_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(world.config_path), "run"],
            cwd=REPO_ROOT,
            env=world.environment(),
            stdout=subprocess.DEVNULL,
            stderr=sink,
            preexec_fn=limit_open_files,
        )
        try:
            wait_until(lambda: "service.started" in log.read_text(errors="replace"), process, log)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=20)


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + EVENTUALLY
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gave up waiting; service log:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.1)


def open_half_finished(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=EVENTUALLY)
        sock.sendall(HALF_FINISHED)
        sockets.append(sock)
    return sockets


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def closed_by_server(sock: socket.socket, deadline: float, keep_sending: bytes = b"") -> bool:
    """Reads (sending `keep_sending` between reads, a trickle) until the server closes the connection."""
    while time.monotonic() < deadline:
        sock.settimeout(0.25)
        try:
            if keep_sending:
                sock.sendall(keep_sending)
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
    return False


def all_closed_by_server(sockets: list[socket.socket]) -> bool:
    deadline = time.monotonic() + EVENTUALLY
    try:
        return all(closed_by_server(sock, deadline) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def get_healthz(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=EVENTUALLY) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def accept_error_lines(log: str) -> list[str]:
    # Ours are `ops.accept_failed`; asyncio's own accept loop logs "socket.accept() out of system resource".
    return [line for line in log.splitlines() if "ops.accept_failed" in line or "socket.accept()" in line]


@pytest.mark.timeout(180)
def test_half_finished_requests_cannot_take_the_service_down(world: World, tmp_path: Path) -> None:
    add_feed(world, "first")
    port = free_port()
    world.settings["ops"] = ops_settings(port, max_connections=20)
    log = tmp_path / "run.log"
    # 200 descriptors: 300 connections held open would exhaust them without a cap.
    with running(world, log, open_files=200) as service:
        wait_until(lambda: len(world.slack.messages()) == 1, service, log)
        before = open_descriptors(service.pid)
        held = open_half_finished(port, 300)
        # The cap, and one being replaced: not one descriptor per client.
        assert open_descriptors(service.pid) <= before + 20 + DESCRIPTOR_SLACK

        status, health = get_healthz(port)
        assert status == 200 and health["status"] == "ok"

        add_feed(world, "added-live")  # the service must still read its config and fetch the new feed
        world.write_config()
        wait_until(lambda: len(world.slack.messages()) == 2, service, log)

        assert all_closed_by_server(held)
    text = log.read_text(errors="replace")
    assert accept_error_lines(text) == []
    assert "ops.fd_limit_low open_files_limit=200 needed=276" in text  # 20 + the service's 256
    assert "ops.exposed" not in text


@pytest.mark.timeout(180)
def test_accept_errors_are_logged_once_per_burst(world: World, tmp_path: Path) -> None:
    add_feed(world, "first")
    port = free_port()
    # A cap above what 100 descriptors allow: accept() itself runs out of descriptors.
    world.settings["ops"] = ops_settings(port, max_connections=500)
    log = tmp_path / "run.log"
    with running(world, log, open_files=100):
        held = open_half_finished(port, 150)
        assert all_closed_by_server(held)  # the header timeout frees them, and the queued ones get served
        status, _ = get_healthz(port)
        assert status in (200, 503)  # it answers (the service itself may have met the shortage)
    errors = accept_error_lines(log.read_text(errors="replace"))
    assert errors, "the test never ran the process out of descriptors"
    # The burst's first failure, then (at stop) one line with how many more there were.
    assert len(errors) <= 2, errors
    assert "Too many open files" in errors[0] and "ops.accept_failed" in errors[0]
    assert len(errors) == 1 or "repeated=" in errors[1]


@pytest.mark.timeout(120)
def test_slow_partial_and_idle_connections_are_closed(world: World, tmp_path: Path) -> None:
    add_feed(world, "first")
    port = free_port()
    world.settings["ops"] = ops_settings(port)
    with running(world, tmp_path / "run.log"):
        deadline = time.monotonic() + EVENTUALLY

        trickle = socket.create_connection(("127.0.0.1", port), timeout=EVENTUALLY)
        trickle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # then one header byte at a time
        assert closed_by_server(trickle, deadline, keep_sending=b"X")

        idle = socket.create_connection(("127.0.0.1", port), timeout=EVENTUALLY)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive, and then nothing
        assert idle.recv(65536).startswith(b"HTTP/1.1 ")
        assert closed_by_server(idle, deadline)

        unfinished_body = socket.create_connection(("127.0.0.1", port), timeout=EVENTUALLY)
        unfinished_body.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc")
        assert closed_by_server(unfinished_body, deadline)

        for sock in (trickle, idle, unfinished_body):
            sock.close()


def test_listening_beyond_loopback_is_warned_about_at_start(world: World, tmp_path: Path) -> None:
    add_feed(world, "first")
    world.settings["ops"] = {"enabled": True, "host": "0.0.0.0", "port": free_port()}
    log = tmp_path / "run.log"
    with running(world, log):
        pass
    [warning] = [line for line in log.read_text().splitlines() if "ops.exposed" in line]
    assert "WARNING" in warning and "no authentication" in warning and "addresses=0.0.0.0" in warning


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("10.0.0.1", False),
        ("fe80::1%eth0", False),
        ("2001:db8::1", False),
    ],
)
def test_which_listening_addresses_count_as_loopback(address: str, loopback: bool) -> None:
    assert is_loopback_address(address) is loopback
