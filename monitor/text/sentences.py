"""Sentences: split_sentences, and SentenceFinder for the sentence around one offset."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace and
# an opening capital, digit or quote; or at a CJK full stop; or at a line break; but not at a full
# stop that ends one of these abbreviations (a whole word).
_ABBREVIATIONS = (
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "Inc", "Ltd", "Co", "Corp", "No", "vs",
    "U.S", "U.K", "e.g", "i.e",
)  # fmt: skip


def _after_abbreviation(then: str) -> str:
    """A regex true just after an abbreviation, its full stop and `then` (lookbehinds have one width)."""
    by_length: dict[int, list[str]] = {}
    for word in _ABBREVIATIONS:
        by_length.setdefault(len(word), []).append(re.escape(word))
    return "|".join(rf"(?<=(?<!\w)(?:{'|'.join(words)})\.{then})" for words in by_length.values())


# One pass finds every boundary. The pattern starts with the one character each kind of boundary
# starts with, so the regex engine skips to candidates instead of trying each alternative at every
# position. A boundary after an abbreviation still matches, as the same text, with no named group (its
# whitespace must not end another sentence); the named groups say where the sentence ends: after the
# closing quotes, after the CJK stop, or before the line break. Looking behind by a fixed width keeps
# "Dr. Dr. Dr. ..." linear (a hostile page once froze a quadratic version for minutes).
_CLOSING = r"""["'”’)\]]*"""
_NEXT_OPENS = r"""(?=["'“‘(\[]?[A-Z0-9])"""
_SENTENCE_END = re.compile(
    r"[.!?\n。！？](?:"
    rf"(?<=\.)(?:{_after_abbreviation('')}){_CLOSING}\s+{_NEXT_OPENS}"
    rf"|(?<=[.!?])(?P<closed>{_CLOSING})\s+{_NEXT_OPENS}"
    r"|(?<=[。！？])(?P<cjk>)"
    rf"|(?<=\.\n)(?:{_after_abbreviation(chr(10))})\n*"
    r"|(?<=\n)(?P<line>)\n*"
    r")"
)


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets in `text`."""
    sentences: list[Sentence] = []
    append = sentences.append
    start = 0
    for end, next_start in _boundaries(text, 0):
        # _append_sentence inlined, with a shortcut for the usual sentence that has no space to strip
        # (strip() returns the string itself then): a fifth of the time for a 5,000-word article.
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped is chunk and chunk:
            append(Sentence(start, end, chunk))
        elif stripped:
            offset = start + chunk.index(stripped)
            append(Sentence(offset, offset + len(stripped), stripped))
        start = next_start
    _append_sentence(sentences, text, start, len(text))
    return sentences


def _boundaries(text: str, position: int) -> Iterator[tuple[int, int]]:
    """For each sentence boundary from `position` on: where the sentence before it ends, and where the
    text after it resumes. `position` must not be inside a boundary (see _may_be_in_boundary)."""
    for boundary in _SENTENCE_END.finditer(text, position):  # lookbehinds still see before `position`
        kind = boundary.lastgroup
        if kind is not None:  # None: after an abbreviation, not a boundary
            yield (boundary.start() if kind == "line" else boundary.end(kind)), boundary.end()


def _append_sentence(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        offset = start + chunk.index(stripped)
        sentences.append(Sentence(offset, offset + len(stripped), stripped))


def sentence_holding(sentences: list[Sentence], offset: int) -> str:
    """The text of the sentence holding `offset`, or "" (binary search: an article has hundreds)."""
    index = bisect.bisect_right(sentences, offset, key=_start) - 1
    if index >= 0 and offset < sentences[index].end:
        return sentences[index].text
    return ""


def _start(sentence: Sentence) -> int:
    return sentence.start


# The characters _SENTENCE_END can match (everything else it only looks at): a scan for boundaries that
# starts at any other character finds the same boundaries after it as a scan from the start of the text.
_BOUNDARY_PUNCTUATION = frozenset(".!?\n\u3002\uff01\uff1f\"'\u201d\u2019)]")


def _may_be_in_boundary(char: str) -> bool:
    return char in _BOUNDARY_PUNCTUATION or char.isspace()


class SentenceFinder:
    """The sentence of split_sentences(text) that holds an offset, found by reading only around it.

    Matching needs the sentences of a few dozen hits, not all of an article's hundreds: splitting a
    5,000-word article took 0.5 ms, a third of matching it against 10,000 terms (bench/matching.py).
    Each lookup scans back a little from the offset to the boundary that starts its sentence, widening
    the window until one is found, and forward to the boundary that ends it. When the lookups have read
    READ_BUDGET times the text (many hits, or sentences thousands of characters long), it splits the
    whole text once instead, so an article never costs much more than a full split.
    """

    READ_BUDGET = 2
    # Characters before the offset in the first window, widened fourfold until a boundary is in it. A
    # news sentence is about 100 characters; for the 57 hits of the 10,000-term benchmark, 64 took
    # 0.14 ms, 32 and 96 0.16 ms, 256 0.24 ms.
    FIRST_WINDOW = 64

    def __init__(self, text: str):
        self.text = text
        self._budget = self.READ_BUDGET * len(text)
        self._sentences: list[Sentence] | None = None

    def sentence_at(self, offset: int) -> str:
        """What sentence_holding(split_sentences(text), offset) returns."""
        if self._sentences is None:
            found = self._read_around(offset)
            if found is not None:
                return found
            self._sentences = split_sentences(self.text)
        return sentence_holding(self._sentences, offset)

    def _read_around(self, offset: int) -> str | None:
        """The sentence holding `offset`, from a scan of windows around it; None when over budget."""
        text, window = self.text, self.FIRST_WINDOW
        last = min(offset, len(text) - 1)  # the last character the scan may start at
        while self._budget > 0:
            begin = max(0, offset - window)
            while 0 < begin <= last and _may_be_in_boundary(text[begin]):
                begin += 1  # the scan must not start inside a boundary (the start of the text is not)
            window *= 4
            if begin > last and begin > 0:
                continue
            start = 0 if begin == 0 else None  # where the sentence holding `offset` starts, once known
            reached = len(text)
            for end, next_start in _boundaries(text, begin):
                if next_start <= offset:
                    start = next_start
                    continue
                reached = next_start
                if start is not None:
                    self._budget -= reached - begin
                    return _stripped_sentence_at(text, start, end, offset)
                break
            else:
                if start is not None:
                    self._budget -= reached - begin
                    return _stripped_sentence_at(text, start, len(text), offset)
            self._budget -= reached - begin  # no boundary before `offset` in the window: widen it
        return None


def _stripped_sentence_at(text: str, start: int, end: int, offset: int) -> str:
    """The sentence split_sentences makes of text[start:end] if it holds `offset`, else ""."""
    chunk = text[start:end]
    stripped = chunk.strip()
    first = start + chunk.find(stripped) if stripped else end
    return stripped if first <= offset < first + len(stripped) else ""
