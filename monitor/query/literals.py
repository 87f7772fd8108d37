"""The words every match of an analyst's regex must contain, so that an article without them is skipped.

A `regex:` term has no phrase for the anchor index (monitor.query.anchors), so it scanned every article:
0.45 ms for `\\b(?:chip|semiconductor)\\s+export\\s+controls?\\b` over a 5,000-word article, a fifth of
matching it against 10,000 terms (bench/matching.py). Most such patterns spell out words that any match
holds ("export", "control"); when the article's folded text lacks one of them, the regex cannot match
and need not run. This is the prefilter regex engines such as RE2 use, kept to what is sure:

- The pattern is read with the stdlib's parser (`re._parser`), which reads the syntax `regex` shares
  with `re`. A pattern it cannot read (`\\p{L}`, `(?V1)`, named lists) gets no words. Nor does one
  with inline flags other than `(?i)` (`(?x)` changes what a space means, `(?f)` folds case fully),
  or with a literal brace where `regex` may read a fuzzy-matching constraint (`(?:export){e<=1}`).
- Only literals outside any alternative, optional part, lookaround or group with flags count, and only
  runs of ASCII letters and digits, lowercased: the text is folded as monitor.query.anchors.fold does,
  and every character `regex` equates with an ASCII letter ignoring case folds to that letter
  (tests/query/test_literals.py checks every code point).
"""

from __future__ import annotations

import re
import warnings

# The stdlib's own regex parser (private, and stable since Python 3.11; typeshed does not describe it).
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

_BRACES = {ord("{"), ord("}")}
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT}
# What the parser sets for a str pattern, and the one inline flag that cannot hide a word from the
# folded text (it only changes case).
_HARMLESS_FLAGS = re.UNICODE | re.IGNORECASE


class _Unsure(Exception):
    """The pattern holds syntax whose meaning in `regex` may differ: no required words for it."""


def required_words(source: str) -> tuple[str, ...]:
    """Lowercase ASCII words (letters and digits) that every match of the pattern contains; () if unsure."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "possible nested set": `regex` may read it otherwise
            parsed = _sre_parser.parse(source)
        if parsed.state.flags & ~_HARMLESS_FLAGS:
            return ()
        words: list[str] = []
        _collect(parsed, words)
    except (re.error, Warning, _Unsure, RecursionError, OverflowError):
        return ()
    return tuple(dict.fromkeys(words))


def _collect(items: Any, words: list[str]) -> None:
    """Append the runs of literal ASCII letters and digits that `items`, a sequence, always matches."""
    run: list[str] = []
    for op, argument in items:
        if op is _sre.LITERAL:
            if argument in _BRACES:
                raise _Unsure
            char = chr(argument)
            if char.isascii() and char.isalnum():
                run.append(char.lower())
                continue
        _end_run(run, words)
        if op is _sre.SUBPATTERN:
            _group, add_flags, del_flags, inner = argument
            if (add_flags | del_flags) & ~_HARMLESS_FLAGS:
                raise _Unsure
            _collect(inner, words)
        elif op in _REPEATS and argument[0] >= 1:  # repeated at least once: its words are required
            _collect(argument[2], words)
    _end_run(run, words)


def _end_run(run: list[str], words: list[str]) -> None:
    if run:
        words.append("".join(run))
        run.clear()
