"""Structured log lines: `event key=value ...`, one line per event, with stable keys; and the one
neutralising every human-facing line goes through (log lines and the commands' console output).

Stable keys (feed_url, article_url, stage, channel, reason) let operators grep and ship logs without a
parser for prose. Values from feeds are quoted and stripped of control characters, so a hostile title
cannot forge a log line; every line, our own and third-party libraries' alike, has its secrets masked
(monitor/redact/) before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from .redact import mask_secrets

_NEEDS_QUOTES = re.compile(r'[\s"=]')


def blank_controls(text: str, keep: str = "") -> str:
    """Control characters (escape sequences, bidi overrides, NUL) as spaces, except those in `keep`:
    text from feeds must not rewrite a terminal or forge a log line."""
    return "".join(ch if ch.isprintable() or ch in keep else " " for ch in text)


def mask_credentials(text: str) -> str:
    """Credentials in `text` masked: the name the storage code and the tests know mask_secrets by."""
    return mask_secrets(text)


def safe_text(text: str, keep: str = "\n") -> str:
    """What a terminal may be shown: secrets masked, control, bidi and invisible characters blanked.

    Feed titles, page text and exception messages reach the console; `ESC]0;…BEL` would retitle the
    operator's terminal, `ESC[2J` clear it, U+202E reverse how a URL reads.
    """
    return blank_controls(mask_secrets(text), keep=keep)


def safe_line(text: str) -> str:
    """safe_text on one line: for a table cell or a title, where a newline would forge another row.

    Mask before cutting a line to width: a URL cut before its `@` no longer looks like credentials."""
    return " ".join(safe_text(text, keep="").split())


def format_value(value: Any) -> str:
    text = mask_credentials(str(value))
    text = blank_controls(text)[:500]
    if not text or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def log_event(
    logger: logging.Logger, level: int, event: str, *, exc_info: bool = False, **fields: Any
) -> None:
    """Log `event` with its fields as key=value pairs (exc_info adds the traceback, for bugs)."""
    if logger.isEnabledFor(level):
        pairs = " ".join(f"{key}={format_value(value)}" for key, value in fields.items() if value is not None)
        logger.log(level, f"{event} {pairs}".rstrip(), exc_info=exc_info)


_HANDLER_NAME = "news-monitor"


class _SafeFormatter(logging.Formatter):
    """Every line masked and neutralised as a whole: tracebacks quote exception messages, and
    third-party libraries log URLs and messages that never went through format_value."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_text(super().format(record))


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is when a line is logged, not as it was when logging was configured.

    A handler bound to the stream of the moment outlives it when sys.stderr is swapped (an embedding
    program, a test run capturing output): every later line is then a "Logging error" traceback about a
    closed file instead of the line.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _stream: Any) -> None:
        pass  # always sys.stderr


def configure_logging(level: str = "INFO") -> None:
    """Log lines to stderr with a timestamp, the level and the component."""
    handler = _CurrentStderrHandler()
    handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler, so calling this twice (tests, embedding) never doubles lines
    # and never removes handlers someone else installed.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
    # Third-party chatter (one line per scheduler tick, request dumps at DEBUG) drowns our events and
    # could carry request details we do not control; our own DEBUG lines are what --log-level DEBUG means.
    for name in (
        "alembic",  # migrations are logged as our own store.migrated event
        "apscheduler",
        "slack_sdk",
        "aiohttp",
        "asyncio",
        "sqlalchemy",
        "urllib3",
        "charset_normalizer",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)
