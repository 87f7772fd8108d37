"""Run the real CLI in a child process and read its peak resident memory (a bound, never a timing).

The CLI is started by a small launcher process, not forked from the test process itself: a forked
child's peak RSS counts the pages it shares with its parent until it execs, and after a few hundred
tests the pytest process alone is 300 MB.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.world import REPO_ROOT, World

MIB = 1024 * 1024

# Forks the CLI from a fresh, small interpreter and writes the child's own peak RSS (os.wait4: that one
# child, in KiB on Linux) to the file named by argv[1]; exits with the child's exit code.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class ChildRun:
    exit_code: int
    stderr: str
    peak_rss: int  # bytes


def run_measured(world: World, *args: str) -> ChildRun:
    """`news-monitor --config <world> ARGS` as a child process; its exit code, stderr and peak RSS."""
    config = world.write_config()
    rss_file = Path(world.folder) / "peak-rss-kib"
    command = ["-m", "monitor", "--config", str(config), *args]
    finished = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(rss_file), *command],
        cwd=REPO_ROOT,
        env=world.environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return ChildRun(finished.returncode, finished.stderr, int(rss_file.read_text()) * 1024)
