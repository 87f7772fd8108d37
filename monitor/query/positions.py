"""Word positions, for NEAR: which words of a text an occurrence covers.

A word is a run of letters and digits, which may hold an apostrophe, hyphen or full stop between
them ("People's", "T-Head", "U.S", "3.5" are one word each). Each CJK character is a word of its own:
those scripts are written without spaces, and a character is the closest thing to a word that needs
no dictionary. (Hangul counts as CJK here, as it does for term matching in monitor.text.)
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..text import _CJK

# The same CJK ranges as term matching uses, as the inside of a character class.
_CJK_RANGES = _CJK.pattern.removeprefix("[").removesuffix("]")
_LETTERS = rf"[^\W_{_CJK_RANGES}]+"
_WORD = re.compile(rf"[{_CJK_RANGES}]|{_LETTERS}(?:['\-.]{_LETTERS})*")


@dataclass(frozen=True)
class WordPositions:
    """Each word's (start, end) character offsets, in order."""

    spans: list[tuple[int, int]]

    @classmethod
    def of(cls, text: str) -> WordPositions:
        return cls([word.span() for word in _WORD.finditer(text)])

    def words_covered(self, start: int, end: int) -> tuple[int, int]:
        """The first and last word index that the characters [start, end) touch."""
        first = bisect.bisect_right(self.spans, start, key=_end)  # the first word ending after `start`
        last = bisect.bisect_left(self.spans, end, key=_start) - 1  # the last word starting before `end`
        return first, max(first, last)  # a match of punctuation alone sits at the next word


def _start(span: tuple[int, int]) -> int:
    return span[0]


def _end(span: tuple[int, int]) -> int:
    return span[1]
