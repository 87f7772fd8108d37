"""The pieces a Slack message is written in (`Markup`, `Text`, `Link`, `Emphasised`), `render` (pieces
into mrkdwn within a limit), and the frame of a post (`SlackMessage`, its blocks, `NO_PARSING`)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .slack_text import (
    CONTEXT_TEXT_LIMIT,
    ELLIPSIS,
    SECTION_TEXT_LIMIT,
    TITLE_LIMIT,
    clean,
    escape,
    fit,
    link_target,
    real_host,
)

# --- Pieces ---


@dataclass(frozen=True)
class Markup:
    """Our own mrkdwn (`*`, a line break, `<!here>`), sent as written; kept whole or not at all."""

    text: str

    def render(self, room: int) -> str:
        return self.text if len(self.text) <= room else ""


@dataclass(frozen=True)
class Text:
    """Untrusted text: cleaned, escaped and cut to at most `limit` characters."""

    text: str
    limit: int = SECTION_TEXT_LIMIT
    keep_newlines: bool = False

    def render(self, room: int) -> str:
        limit = min(room, self.limit)
        # At most `limit` visible characters can be shown: cleaning more is wasted work (a text padded
        # with more than three invisible characters for each visible one loses its tail).
        window = self.text[: 4 * max(limit, 0) + 64]
        return fit(clean(window, keep_newlines=self.keep_newlines), limit)


@dataclass(frozen=True)
class Link:
    """`<url|label> (host)`: an untrusted link, its label escaped and the real host beside it. Without a
    usable URL (or room for it), the label alone, with the host when there is one."""

    url: str
    label: str
    bold: bool = False
    label_limit: int = TITLE_LIMIT

    def render(self, room: int) -> str:
        host = real_host(self.url)
        suffix = f" ({escape(host)})" if host else ""
        stars = 2 if self.bold else 0
        label = clean(self.label[: 4 * self.label_limit + 64]) or "(no title)"  # as Text.render
        target = link_target(self.url)
        if target is not None:
            linked = self._bold(f"<{target}|{fit(label, self.label_limit)}>") + suffix
            if len(linked) <= room:
                return linked
        label_room = min(room - len(suffix) - stars, self.label_limit)
        shown = fit(label, label_room) if label_room > len(ELLIPSIS) else ""
        return self._bold(shown) + suffix if shown else ""

    def _bold(self, text: str) -> str:
        return f"*{text}*" if self.bold else text


# Slack's formatting characters: bold next to (or around a word holding) one would pair up differently.
_FORMATTING = "*_~`"
# A bold word stands alone: no letter, digit or formatting character right before or after it.
_EDGE_BEFORE = r"(?<![\w*_~`])"
_EDGE_AFTER = r"(?![\w*_~`])"
MAX_BOLD_WORD = 100  # a longer "word" is not one a reader scans for


@dataclass(frozen=True)
class Emphasised:
    """Untrusted text, as `Text` renders it, with every whole-word occurrence of `words` in bold.

    Words are found in the cleaned raw text and each part is escaped on its own, so a `*` is never put
    inside an entity (&amp;) and never breaks a token; a bold word is kept whole or cut away with what
    follows it, so a cut never leaves a `*` open."""

    text: str
    words: tuple[str, ...] = ()
    limit: int = SECTION_TEXT_LIMIT

    def render(self, room: int) -> str:
        limit = min(room, self.limit)
        text = clean(self.text[: 4 * max(limit, 0) + 64])  # as Text.render
        spans = bold_spans(text, self.words)
        full = _with_bold(text, spans, len(text))
        return full if len(full) <= limit else _cut_with_bold(text, spans, limit)


def boldable(word: str) -> bool:
    """Whether `word` (cleaned) can be put between `*` without changing how Slack reads the text."""
    return 0 < len(word) <= MAX_BOLD_WORD and word == word.strip() and not any(c in word for c in _FORMATTING)


def bold_spans(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    """Where the words occur in `text` as whole words, exactly as written: (start, end), in order."""
    wanted = sorted({w for w in (clean(word) for word in words) if boldable(w)}, key=len, reverse=True)
    if not wanted:
        return []
    # Literal alternatives, longest first, in one pass: linear in the text for a bounded list of words.
    pattern = re.compile(_EDGE_BEFORE + "(?:" + "|".join(map(re.escape, wanted)) + ")" + _EDGE_AFTER)
    return [match.span() for match in pattern.finditer(text)]


def _with_bold(text: str, spans: Sequence[tuple[int, int]], end: int) -> str:
    """text[:end] escaped, the spans that end by `end` in bold."""
    out, position = [], 0
    for start, stop in spans:
        if stop > end:
            break
        out += [escape(text[position:start]), "*", escape(text[start:stop]), "*"]
        position = stop
    out.append(escape(text[position:end]))
    return "".join(out)


def _cut_with_bold(text: str, spans: Sequence[tuple[int, int]], limit: int) -> str:
    """As `fit` cuts, counting each bold word (its markers included) as one piece that fits or not."""
    room, used, end, next_span = limit - len(ELLIPSIS), 0, 0, 0
    while end < len(text):
        if next_span < len(spans) and spans[next_span][0] == end:
            start, stop = spans[next_span]
            cost = len(escape(text[start:stop])) + 2
            if used + cost > room:
                break
            used, end, next_span = used + cost, stop, next_span + 1
            continue
        cost = len(escape(text[end]))
        if used + cost > room:
            break
        used, end = used + cost, end + 1
    space = text.rfind(" ", 0, end)
    if space > end * 0.7 and not _inside(spans, space):
        end = space
    end = len(text[:end].rstrip())
    return _with_bold(text, spans, end) + ELLIPSIS if end else ""


def _inside(spans: Sequence[tuple[int, int]], position: int) -> bool:
    index = bisect.bisect_right(spans, position, key=_start) - 1  # the last span starting by `position`
    return index >= 0 and spans[index][0] <= position < spans[index][1]


def _start(span: tuple[int, int]) -> int:
    return span[0]


Piece = Markup | Text | Link | Emphasised


def render(pieces: Sequence[Piece], limit: int) -> str:
    """The pieces as one mrkdwn string of at most `limit` characters. Each piece is given the room the
    earlier ones left; after the first piece that had to be shortened or left out, the rest are dropped,
    so a cut never leaves half a link or a sentence with a hole in it."""
    out: list[str] = []
    used = 0
    for piece in pieces:
        room = limit - used
        full = piece.render(limit)
        shown = full if len(full) <= room else piece.render(room)
        out.append(shown)
        used += len(shown)
        if shown != full:
            break
    return "".join(out)


# --- Messages ---

# What every chat.postMessage and chat.update sends besides text and blocks: Slack parses nothing (no
# auto-linked domains or #channels, no @group mentions; on chat.update `parse` would otherwise default to
# `client`), and Slack's servers fetch no stranger's URL for a preview.
NO_PARSING: dict[str, Any] = {
    "parse": "none",
    "link_names": False,
    "unfurl_links": False,
    "unfurl_media": False,
}


@dataclass(frozen=True)
class SlackMessage:
    """What one post says: the plain text (the whole message, or the notification line when there are
    blocks) and the blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None

    def api_args(self, *, with_blocks: bool = True) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage / chat.update (channel, ts, thread_ts aside)."""
        args: dict[str, Any] = {"text": self.text, **NO_PARSING}
        if with_blocks and self.blocks is not None:
            args["blocks"] = self.blocks
        return args


def mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not turn bare domains, #names or @names in untrusted text into links or
    # mentions; the links we build ourselves (<url|label>) still work.
    return {"type": "mrkdwn", "text": text or " ", "verbatim": True}


def section(*pieces: Piece) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(render(pieces, SECTION_TEXT_LIMIT))}


def context(*pieces: Piece) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(render(pieces, CONTEXT_TEXT_LIMIT))]}


def joined(items: Sequence[str], limit: int, separator: str = ", ") -> list[Piece]:
    """Untrusted names, each cut to `limit`, with our separator between them."""
    pieces: list[Piece] = []
    for index, item in enumerate(items):
        if index:
            pieces.append(Markup(separator))
        pieces.append(Text(item, limit))
    return pieces
