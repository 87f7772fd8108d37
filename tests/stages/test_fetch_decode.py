"""Decoding a fetched page: the encoding is guessed from a bounded sample, off the event loop (issue 12).

Work is counted as the bytes handed to the statistical guess (BeautifulSoup's `_chardet_dammit`, the
real function wrapped), and where it runs as the thread that called it; never timed.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import bs4.dammit
import pytest
from bs4.dammit import UnicodeDammit
from hypothesis import given
from hypothesis import strategies as st

from monitor.http.client import HttpClient
from monitor.stages.fetch import DETECT_BYTES, decode_html, fetch_page
from tests.support.web_server import WebServer

# Bytes no candidate before the statistical guess can decode: not UTF-8, and 0x81 is undefined in
# windows-1252. With no charset declared anywhere, the guess has to run.
UNDECLARED = (
    b"<html><head><title>t</title></head><body><p>caf\xe9 \x81</p>" + b"<p>words and words</p>\n" * 250_000
)


class GuessRecorder:
    """Wraps BeautifulSoup's statistical guess: how many bytes it read, and on which thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.real = bs4.dammit._chardet_dammit
        self.sizes: list[int] = []
        self.threads: list[threading.Thread] = []
        monkeypatch.setattr(bs4.dammit, "_chardet_dammit", self)

    def __call__(self, markup: Any) -> Any:
        self.sizes.append(len(markup))
        self.threads.append(threading.current_thread())
        return self.real(markup)


def fetch(url: str) -> tuple[str, threading.Thread]:
    async def go() -> tuple[str, threading.Thread]:
        async with HttpClient(timeout=10, user_agent="test", allow_private_addresses=True) as http:
            page = await fetch_page(http, url, max_bytes=10_000_000)
        return page.html, threading.current_thread()

    return asyncio.run(go())


def test_a_big_page_s_encoding_is_guessed_from_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    guesses = GuessRecorder(monkeypatch)
    with WebServer() as server:
        html, _ = fetch(server.add("/big", UNDECLARED, content_type="text/html"))
    assert html.startswith("<html>") and len(html) == len(UNDECLARED)  # decoded whole
    assert guesses.sizes and max(guesses.sizes) <= DETECT_BYTES  # the whole 5 MB before the fix


def test_a_page_is_decoded_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    guesses = GuessRecorder(monkeypatch)
    with WebServer() as server:
        _, loop_thread = fetch(server.add("/big", UNDECLARED, content_type="text/html"))
    assert guesses.threads and loop_thread not in guesses.threads  # the loop's own thread before the fix


def test_an_encoding_named_only_in_the_meta_of_a_big_page_still_decodes_it_all() -> None:
    text = "<p>日本語の文章です。</p>\n" * 200_000
    body = ('<html><head><meta charset="shift_jis"></head><body>' + text).encode("shift_jis")
    assert decode_html(body, None).endswith(text)


def test_a_non_web_codec_is_never_used_to_decode() -> None:
    # punycode decodes in quadratic time: a page of letters labelled with it would take hours.
    assert decode_html(b"a" * 500_000, "punycode") == "a" * 500_000


@given(
    st.text(max_size=200),
    st.sampled_from(["utf-8", "windows-1252", "shift_jis", "gb18030", "iso-8859-5", "utf-16"]),
    st.sampled_from([None, "utf-8", "windows-1252", "iso-8859-2", "bogus"]),
    st.booleans(),
)
def test_a_small_page_decodes_as_beautifulsoup_decodes_it(
    text: str, encoding: str, declared: str | None, meta: bool
) -> None:
    head = f'<meta charset="{encoding}">' if meta else ""
    body = f"<html><head>{head}</head><body><p>{text}</p>".encode(encoding, errors="replace")
    has_bom = body.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"))
    known = [declared] if declared and not has_bom else []
    expected = UnicodeDammit(body, known_definite_encodings=known, user_encodings=["utf-8", "windows-1252"],
                             is_html=True).unicode_markup  # fmt: skip
    assert decode_html(body, declared) == expected
