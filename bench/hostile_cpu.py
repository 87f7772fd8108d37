"""Issue 12, class 3: the CPU one hostile feed or page costs, through the real stage functions.

    python bench/hostile_cpu.py

Each line times one hostile input (the worst shapes found while fixing the issue) and prints seconds
of wall time on this machine; the tests bound the same work by counting it (tests/stages/*_work.py).
Figures measured before the fixes, on the same machine, are in the comments of the code they led to.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root

from monitor.config import WatchlistConfig
from monitor.errors import ExtractionError
from monitor.models import Article, Page
from monitor.stages.extract import extract_article
from monitor.stages.fetch import decode_html
from monitor.stages.match import CompiledWatchlists, compile_watchlist, match_article
from monitor.stages.poll import parse_feed

SHIPPED_PLA = {
    "name": "alibaba-military",
    "terms": [
        {
            "term": "PLA",
            "case_sensitive": True,
            "aliases": ["People's Liberation Army"],
            "exclude": ["PLA filament", "PLA plastic"],
        }
    ],
}


def match_excludes() -> None:
    watchlists = CompiledWatchlists([compile_watchlist(WatchlistConfig.model_validate(SHIPPED_PLA), "#c")])
    text = ("PLA said. PLA filament. " * 15_000)[:200_000]
    match_article(Article(url="https://x.example/a", title="t", text=text), watchlists)


def page(body: str) -> Page:
    return Page(
        url="https://x.example/a", html=f"<html><head><title>t</title></head><body>{body}</body></html>"
    )


def extract(body: str) -> Callable[[], None]:
    def run() -> None:
        with contextlib.suppress(ExtractionError):
            extract_article(page(body), authors=False)

    return run


def decode_undeclared() -> None:
    decode_html(b"<html><p>caf\xe9 \x81</p>" + b"<p>words and words</p>\n" * 250_000, None)


def feed(size: int, *, well_formed: bool) -> Callable[[], None]:
    title = "Ham &amp; eggs" if well_formed else "Ham & eggs"
    declaration = '<?xml version="1.0" encoding="iso-8859-1"?>' if well_formed else '<?xml version="1.0"?>'
    item = "<item><title>I</title><link>https://x.example/{n}</link><description>{tags}</description></item>"
    items = "".join(item.format(n=n, tags="<b>x</b>" * 200) for n in range(size // 1_700))
    body = f'{declaration}<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'.encode()
    return lambda: parse_feed("https://x.example/feed", body, {"content-type": "application/rss+xml"})


SCENARIOS: list[tuple[str, Callable[[], None]]] = [
    ("match: 15,000 PLA beside 15,000 'PLA filament' (200,000 chars)", match_excludes),
    (
        "extract: 25,000 paragraphs",
        extract("<p>Alibaba opened another office, the company said.</p>" * 25_000),
    ),
    ("extract: 12,500 <div><p>x y z</p></div>", extract("<div><p>x y z</p></div>" * 12_500)),
    ("decode: 5 MB page, no charset, not UTF-8 nor windows-1252", decode_undeclared),
    ("feed: malformed 10 MB (loose parser)", feed(10_000_000, well_formed=False)),
    ("feed: well-formed 10 MB, ISO-8859-1 (strict parser)", feed(10_000_000, well_formed=True)),
]


def main() -> int:
    for name, scenario in SCENARIOS:
        started = time.perf_counter()
        scenario()
        print(f"{time.perf_counter() - started:7.2f} s  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
