"""`news-monitor run` processes for end-to-end tests, each with its log in a file, so a test can wait for a
line in it while the process runs (World.spawn pipes it, readable only once the process ended), and on
the world's config files as they are (World.spawn writes them again first)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.world import REPO_ROOT, World


class Instance:
    """One `news-monitor run` on the world's config as written, its stderr in a file."""

    def __init__(self, world: World, log: Path):
        self.log = log
        with log.open("w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(world.config_path), "run"],
                cwd=REPO_ROOT, env=world.environment(), stdout=subprocess.DEVNULL, stderr=stderr,
                text=True,
            )  # fmt: skip

    def said(self, text: str) -> bool:
        return text in self.log.read_text(encoding="utf-8")

    def stop(self) -> str:
        """SIGTERM, a clean exit, and its whole log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log = self.log.read_text(encoding="utf-8")
        assert self.process.returncode == 0, log
        return log


def wait_until(condition: Callable[[], bool], what: str, fleet: list[Instance], timeout: float = 45) -> None:
    """Wait for `condition`, failing at once, with its log, if an instance exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for instance in fleet:
            if instance.process.poll() is not None:
                pytest.fail(f"an instance exited ({instance.process.returncode}):\n{instance.stop()}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; logs:\n" + "\n".join(i.log.read_text() for i in fleet))
