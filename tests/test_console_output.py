"""Console output: feed text never drives the operator's terminal.

A feed's title and its items' titles reach `status` and `preview`. Escape sequences (`ESC]0;…BEL`
retitles the terminal, `ESC[2J` clears it, the C1 `CSI`), bidi controls (U+202E reverses how a file
name or URL reads) and zero-width characters must arrive blanked, in text and in JSON output alike.
"""

from __future__ import annotations

import contextlib
import io
import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.cli.main import echo
from tests.support.feeds import rss_feed
from tests.support.world import World, hours_ago

HOSTILE = "Alibaba \x1b]0;pwned\x07 \x1b[2J \u202egnp.exe \x9b2J \u200bend \u2066x\u2069"
PAGE = "<html><body><article>" + "<p>Alibaba's cloud unit signed a deal with a provincial government.</p>" * 4
PAGE += "</article></body></html>"


def terminal_safe(text: str) -> bool:
    """Nothing a terminal would act on: no control (Cc) or format (Cf: bidi, zero-width) characters but
    the newlines between lines."""
    return all(ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


def add_hostile_feed(world: World) -> None:
    page = world.web.add("/story.html", PAGE, content_type="text/html")
    item = {"title": HOSTILE, "link": page, "guid": "1", "pub_date": hours_ago(1)}
    world.add_feed("/feed.xml", rss_feed(HOSTILE, [item]))  # no `name:`: status shows the feed's title


@pytest.mark.parametrize("command", [("status",), ("preview",)])
def test_feed_titles_never_reach_the_terminal_raw(
    world: World, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    add_hostile_feed(world)
    assert world.once() == 0
    capsys.readouterr()
    assert world.run_cli(*command) == 0
    out = capsys.readouterr().out
    assert "Alibaba" in out and "pwned" in out  # the title is shown, only neutralised
    assert terminal_safe(out), repr(out)


@pytest.mark.parametrize("command", [("status", "--json"), ("preview", "--json")])
def test_json_output_carries_no_raw_control_characters(
    world: World, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    add_hostile_feed(world)
    assert world.once() == 0
    capsys.readouterr()
    assert world.run_cli(*command) == 0
    out = capsys.readouterr().out
    assert terminal_safe(out), repr(out)
    assert "pwned" in json.dumps(json.loads(out))  # still valid JSON, the title still there


@given(st.text())
def test_whatever_a_command_prints_is_terminal_safe(text: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        echo(text)
    assert terminal_safe(out.getvalue())
