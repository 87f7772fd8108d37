"""The text patterns a watch term or a query word compiles to, and the term that owns them.

Phrases (a term, its aliases, a query's words and "quoted phrases") become stdlib `re` patterns built
from escaped literals: they cannot backtrack badly. `regex:` terms are written by analysts, so they run
on the `regex` package with a time limit (see REGEX_TIMEOUT for why that engine and that limit).
Everything here matches normalised text (monitor.text.normalise_text) and knows nothing of the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from ..text import is_cjk, normalise_text
from .anchors import FoundAnchors, anchor_of, is_word_char
from .literals import required_words

# Why `regex` with a timeout rather than google-re2 (measured on this machine, Python 3.11):
# - `(a+)+$` on 'a'*50+'b': stdlib re needs 1.7 s at 24 a's and doubles with each one; `regex` finishes
#   in 0.2 ms (it spots that nesting); `(a|aa)+$` on 'a'*30+'b' still runs away in `regex` and is
#   stopped by the timeout after 100 ms. RE2 does both in 0.01 ms (it is linear-time).
# - RE2's \b and \w are ASCII-only: `\bÜber` never matches "Über", which a multilingual watchlist
#   would hit; it also has no lookarounds, which analysts use (`PLA(?! filament)`). `regex` keeps
#   Python's Unicode semantics, the same as our phrase matching, and is already installed (dateparser).
# - A linear pattern over the longest article text (200,000 characters, extract.MAX_TEXT_CHARS) takes
#   2-4 ms, so 100 ms is 25x headroom for honest patterns while bounding a runaway one.
REGEX_TIMEOUT = 0.1  # seconds, for one pattern over one field of one article


class RegexTimeout(Exception):
    """A `regex:` term took longer than REGEX_TIMEOUT on one text; its result is unknown."""

    def __init__(self, source: str):
        self.source = source
        super().__init__(f"the regex {source!r} took longer than {REGEX_TIMEOUT}s and was stopped")


@dataclass(frozen=True)
class Span:
    """Where a pattern matched in a text, and what it matched."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class BoundedRegex:
    """An analyst's regex, compiled with the `regex` package and run with a time limit."""

    source: str
    compiled: Any  # regex.Pattern (the package has no type hints)
    required: tuple[str, ...] = ()  # words every match holds (monitor.query.literals)

    def may_match(self, found: FoundAnchors | None) -> bool:
        """False when the text these anchors were found in lacks one of the required words."""
        if found is None:
            return True
        return all(word in found.folded for word in self.required)

    def finditer(self, text: str) -> list[Any]:
        try:
            return list(self.compiled.finditer(text, timeout=REGEX_TIMEOUT))
        except TimeoutError:
            raise RegexTimeout(self.source) from None


def compile_user_regex(source: str, *, case_sensitive: bool = False) -> BoundedRegex:
    """Compile a `regex:` term; a ValueError says what is wrong with it."""
    try:
        compiled = regex.compile(source, 0 if case_sensitive else regex.IGNORECASE)
    except regex.error as exc:
        raise ValueError(f"invalid regex {source!r}: {exc}") from None
    if compiled.fullmatch(""):
        raise ValueError(f"the regex {source!r} matches an empty text, so it would match every article")
    return BoundedRegex(source, compiled, required_words(source))


@dataclass(frozen=True)
class PhrasePattern:
    r"""Literal phrases matching whole words, the left word boundary checked here rather than in the regex.

    A `(?<!\w)` before each phrase stops `re` from jumping to the phrase's first letters: measured on
    a 5,000-word article, "PLA|People's Liberation Army" took 1.2 ms with it and 0.2 ms without. The
    results are the same: a candidate inside a word is skipped and the search resumes one character on.

    Given the starts where its anchors were found (monitor.query.anchors), it tries only those: the
    regex matches nowhere else, and trying them in order, each from where the last match ended, is
    what a scan does, so the matches are the same.
    """

    regex: re.Pattern[str]
    check_left: bool  # False when a phrase starts with CJK (no boundary) or its lookbehind is in `regex`
    anchors: tuple[str, ...] = ()  # each phrase's anchor; none: the pattern always scans the text

    def finditer(self, text: str, found: FoundAnchors | None = None) -> Iterator[re.Match[str]]:
        starts = found.starts(self.anchors) if found is not None else None
        if starts is not None:
            yield from self._match_at(text, starts)
            return
        if not self.check_left:
            yield from self.regex.finditer(text)
            return
        position = 0
        while (match := self.regex.search(text, position)) is not None:
            start = match.start()
            if start > 0 and is_word_char(text[start - 1]):
                position = start + 1
            else:
                yield match
                position = match.end()  # a phrase is never empty, so this moves on

    def _match_at(self, text: str, starts: Sequence[int]) -> Iterator[re.Match[str]]:
        position = 0
        for start in starts:
            if start < position or (self.check_left and start > 0 and is_word_char(text[start - 1])):
                continue
            match = self.regex.match(text, start)  # lookbehinds still see the text before `start`
            if match is not None:
                yield match
                position = match.end()


@dataclass(frozen=True)
class CompiledTerm:
    """One watch term with its aliases in one pattern, and its excludes in another."""

    term: str  # the name hits are reported under
    pattern: PhrasePattern | BoundedRegex
    exclude: PhrasePattern | None

    def spans(self, text: str, found: FoundAnchors | None = None) -> list[Span]:
        """Where the term occurs in `text`, less the occurrences an exclude phrase covers.

        `found`: where the anchors of an index holding this term's phrases are in `text`, if known.
        """
        spans = _spans(self.pattern, text, found)
        if not spans or self.exclude is None:
            return spans
        return outside(spans, _spans(self.exclude, text, found))

    def anchors(self) -> tuple[str, ...]:
        """The anchors of its patterns; () for a regex, which has none and always runs."""
        if isinstance(self.pattern, BoundedRegex):
            return ()
        return self.pattern.anchors + (self.exclude.anchors if self.exclude else ())


def _spans(pattern: PhrasePattern | BoundedRegex, text: str, found: FoundAnchors | None) -> list[Span]:
    matches: Iterable[Any]
    if isinstance(pattern, BoundedRegex):
        matches = pattern.finditer(text) if pattern.may_match(found) else ()
    else:
        matches = pattern.finditer(text, found)
    # An empty match (a regex such as `\b`) marks a place, not a mention.
    return [Span(m.start(), m.end(), m.group()) for m in matches if m.end() > m.start()]


def outside(spans: Sequence[Span], covers: Sequence[Span]) -> list[Span]:
    """The spans that no cover contains, in one pass over each list (both sorted by start).

    Comparing every span with every cover was quadratic: 15,000 "PLA" beside as many "PLA filament"
    took 11.7 s for one article (issue 12). Here a span is contained exactly when, of the covers
    starting at or before it, the one reaching furthest reaches its end.
    """
    ordered = sorted(covers, key=lambda cover: cover.start)  # finditer order already: a linear sort
    kept: list[Span] = []
    next_cover, furthest = 0, -1
    for span in sorted(spans, key=lambda span: span.start):
        while next_cover < len(ordered) and ordered[next_cover].start <= span.start:
            furthest = max(furthest, ordered[next_cover].end)
            next_cover += 1
        if furthest < span.end:
            kept.append(span)
    return kept


def phrase_term(phrase: str) -> CompiledTerm:
    """A query's bare word or quoted phrase that names no configured term: case-insensitive."""
    return CompiledTerm(term=phrase, pattern=alternation([phrase], re.IGNORECASE), exclude=None)


def prefix_term(stem: str) -> CompiledTerm:
    """A query's `chip*`: words starting with the stem, case-insensitive."""
    phrase = normalise_text(stem).strip()
    # CJK has no word ends to run to, so a CJK stem matches just itself.
    rest = "" if is_cjk(phrase[-1]) else r"\w*"
    regex = re.compile(f"{_words_pattern(phrase)}{rest}", re.IGNORECASE)
    pattern = PhrasePattern(regex, not is_cjk(phrase[0]), _anchors([phrase]))
    return CompiledTerm(term=f"{stem}*", pattern=pattern, exclude=None)


def alternation(phrases: Iterable[str], flags: int) -> PhrasePattern:
    """One pattern for several phrases, each matching whole words (CJK phrases: anywhere)."""
    # Longest first, so "People's Liberation Army" wins over a shorter alias starting the same way.
    ordered = sorted({normalise_text(p).strip() for p in phrases}, key=len, reverse=True)
    anchors = _anchors(ordered)
    if any(is_cjk(p[0]) for p in ordered):  # some need the boundary, some not: each says so itself
        return PhrasePattern(
            re.compile("|".join(_phrase_pattern(p, left=True) for p in ordered), flags), False, anchors
        )
    body = "|".join(_phrase_pattern(p, left=False) for p in ordered)
    return PhrasePattern(re.compile(f"(?:{body})", flags), True, anchors)


def _anchors(phrases: Iterable[str]) -> tuple[str, ...]:
    """The phrases' anchors, or none (the pattern then scans) if one cannot be folded."""
    anchors = [anchor_of(p) for p in phrases]
    return tuple(dict.fromkeys(a for a in anchors if a)) if all(anchors) else ()


def _phrase_pattern(phrase: str, *, left: bool) -> str:
    # Word boundaries on both sides, also for phrases ending in punctuation ("U.S." must not match
    # inside "U.S.S.R."); none for CJK, which is written without spaces.
    before = r"(?<!\w)" if left and not is_cjk(phrase[0]) else ""
    after = "" if is_cjk(phrase[-1]) else r"(?!\w)"
    return f"{before}{_words_pattern(phrase)}{after}"


def _words_pattern(phrase: str) -> str:
    # Any run of spaces or line breaks between the words of a phrase.
    return r"\s+".join(re.escape(word) for word in phrase.split())
