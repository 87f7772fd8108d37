"""One lock for libxml2, the C library under lxml (trafilatura, BeautifulSoup's lxml parser, fastfeedparser).

libxml2 keeps parser state that is global to the process, and lxml does not serialise it: two threads
parsing at once crash the process now and then (SIGSEGV, or SIGABRT "munmap_chunk(): invalid pointer"),
with no Python traceback. trafilatura's maintainers know it (adbar/trafilatura#840, #925, still open with
trafilatura 2.2 and lxml 6); it was seen here once, a `Fatal Python error: Aborted` inside trafilatura
while two extraction threads ran. So every entry point that parses HTML or XML with lxml holds this lock:
one parse at a time in the process. The cost is little, since the GIL already lets one thread run Python
at a time and these stages are mostly Python; the event loop never waits for it (they run in threads).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Re-entrant: parse_feed cleans item summaries with html_to_text, both entry points.
LIBXML_LOCK = threading.RLock()


def one_parse_at_a_time(func: Callable[P, R]) -> Callable[P, R]:
    """`func` runs holding LIBXML_LOCK."""

    @functools.wraps(func)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with LIBXML_LOCK:
            return func(*args, **kwargs)

    return locked
