"""Counting the work a call does, so a test can bound it without a clock (a busy CI machine skews time).

count_lines counts the Python lines executed in our own package (sys.settrace): a loop inside a loop
shows up as lines run, however fast the machine. CallCounter counts calls of a library function, for
work done in a library's own code.
"""

from __future__ import annotations

import sys
import threading
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


class CallCounter:
    """Wraps a function (monkeypatch it in) and counts its calls, and the threads that made them."""

    def __init__(self, function: Callable[..., Any]):
        self.function = function
        self.calls = 0
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            self.threads.append(threading.current_thread())
        return self.function(*args, **kwargs)
