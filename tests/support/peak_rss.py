"""Run the real CLI in a child process and read its peak resident memory (a bound, never a timing)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import IO

from tests.support.world import World

MIB = 1024 * 1024


@dataclass(frozen=True)
class ChildRun:
    exit_code: int
    stderr: str
    peak_rss: int  # bytes: the child's own high-water mark, from os.wait4 (Linux reports KiB)


def run_measured(world: World, *args: str) -> ChildRun:
    """`news-monitor --config <world> ARGS` as a child process; its exit code, stderr and peak RSS.

    os.wait4 reports the rusage of that one child, where getrusage(RUSAGE_CHILDREN) would report the
    largest of every child this test process ever waited for.
    """
    process = world.spawn(*args)
    assert process.stdout is not None and process.stderr is not None
    stderr: list[str] = []
    readers = [
        threading.Thread(target=_drain, args=(process.stdout, []), daemon=True),
        threading.Thread(target=_drain, args=(process.stderr, stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    for reader in readers:
        reader.join(timeout=10)
    return ChildRun(process.returncode, "".join(stderr), usage.ru_maxrss * 1024)


def _drain(stream: IO[str], into: list[str]) -> None:
    """Read a pipe to its end, so a chatty child never blocks on a full pipe."""
    into.append(stream.read())
    stream.close()
