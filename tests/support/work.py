"""Counting the work a call does, so a test can bound it without a clock (a busy CI machine skews time).

count_lines counts the Python lines executed in our own package (sys.settrace): a loop inside a loop
shows up as lines run, however fast the machine. Work done in a library's own code is counted by the
tests themselves, wrapping the library function they call through.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import monitor

_PACKAGE = str(Path(monitor.__file__).resolve().parent)


def count_lines(call: Callable[[], object], under: str = _PACKAGE) -> int:
    """How many lines of files under `under` (by default the monitor package) `call()` runs."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def watch(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(under) else None

    previous = sys.gettrace()
    sys.settrace(watch)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count
