"""Finding where phrases may match, for every watch term at once, with one Aho-Corasick pass.

One regex per term costs a scan of the article per term: 0.5 s per article for 1,000 terms (issue 6).
Instead, every phrase a pattern can match (a term, its aliases, its excludes, a query's words and
prefixes) is an *anchor* in one automaton, compiled with the watchlists; one pass over the article
finds each anchor's candidate starts, and only the patterns with a candidate run their own regex, and
only at those starts (PhrasePattern.finditer). The regex still decides: the automaton only has to find
every place a pattern could match, never fewer, so the results are the per-term scan's.

That holds because both sides are folded so that anything the regex treats as equal becomes the same:
- case: `re.IGNORECASE` compares the characters' simple lowercase, and also treats a few of those as
  equal (i and dotless ı, s and long ſ, σ and final ς; `re._casefix`); fold maps each to one of them.
  A case-sensitive phrase is folded too: more candidates, and its regex drops the wrong-case ones.
- spaces: a phrase's words are joined by `\\s+`, which covers a whole run of spaces and line breaks
  (the words themselves hold none), so every run becomes one space on both sides.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick_rs

from ..text import is_cjk

# Characters that re.IGNORECASE treats as equal although their lowercase differs, each group led by the
# one fold keeps. From CPython's re/_casefix.py (tests/query/test_anchors.py checks they still agree).
_EQUAL_IGNORING_CASE = (
    "i\u0131",  # i, dotless i
    "s\u017f",  # s, long s
    "\u03bc\u00b5",  # Greek mu, micro sign
    "\u03b9\u0345\u1fbe",  # Greek iota, ypogegrammeni, prosgegrammeni
    "\u0390\u1fd3",
    "\u03b0\u1fe3",
    "\u03b2\u03d0",  # beta, curled beta
    "\u03b5\u03f5",
    "\u03b8\u03d1",
    "\u03ba\u03f0",
    "\u03c0\u03d6",
    "\u03c1\u03f1",
    "\u03c3\u03c2",  # sigma, final sigma
    "\u03c6\u03d5",
    "\u0432\u1c80",  # Cyrillic ve and its old form (and below)
    "\u0434\u1c81",
    "\u043e\u1c82",
    "\u0441\u1c83",
    "\u0442\u1c84\u1c85",
    "\u044a\u1c86",
    "\u0463\u1c87",
    "\ua64b\u1c88",
    "\u1e61\u1e9b",
    "\ufb06\ufb05",  # the st ligatures
)
_FOLDED_AWAY = tuple((other, group[0]) for group in _EQUAL_IGNORING_CASE for other in group[1:])
# The one character whose str.lower() is two characters (i + combining dot); the regex uses its simple
# lowercase, i.
_CAPITAL_I_WITH_DOT = "\u0130"


def fold(text: str) -> str | None:
    """`text` lowercased as re.IGNORECASE compares it, offset for offset; None if that cannot be done.

    Each line break becomes a space; the text must be normalised (monitor.text.normalise_text), so
    that spaces and line breaks are its only whitespace.
    """
    folded = text.replace(_CAPITAL_I_WITH_DOT, "i").lower()
    if len(folded) != len(text):  # no such character in Unicode 15; a safe way out if one comes
        return None
    if not folded.isascii():  # isascii() is O(1): most articles skip this
        for other, kept in _FOLDED_AWAY:
            if other in folded:
                folded = folded.replace(other, kept)
    return folded.replace("\n", " ")


def anchor_of(phrase: str) -> str | None:
    """The anchor of a normalised phrase: folded, its words joined by one space."""
    return fold(" ".join(phrase.split()))


@dataclass(frozen=True)
class _Collapsed:
    """A folded text with each run of spaces made one space, and the way back to the text's offsets."""

    text: str
    # For each shortened run, after a first (0, 0): the offset in `text` of the character after it, and
    # how many characters were dropped up to and including that run.
    run_ends: list[int]
    removed: list[int]

    @classmethod
    def of(cls, folded: str) -> _Collapsed:
        runs = [run.span() for run in _SPACE_RUN.finditer(folded)]  # one per paragraph break, typically
        removed = list(itertools.accumulate(end - start - 1 for start, end in runs))
        run_ends = [end - dropped for (_, end), dropped in zip(runs, removed, strict=True)]
        # A first run ending at 0 that removed nothing, so that every offset has a run before it.
        return cls(_SPACE_RUN.sub(" ", folded) if runs else folded, [0, *run_ends], [0, *removed])


_SPACE_RUN = re.compile("  +")


class FoundAnchors:
    """Where each anchor of an AnchorIndex starts in one text (offsets in that text), in order."""

    def __init__(self, starts: dict[str, list[int]], known: frozenset[str], folded: str):
        self._starts = starts
        self._known = known
        self.folded = folded  # the text, folded: a regex term looks for its required words in it

    def __contains__(self, anchor: str) -> bool:
        return anchor in self._starts

    def anchors(self) -> Iterable[str]:
        return self._starts.keys()

    def starts(self, anchors: Sequence[str]) -> list[int] | None:
        """Every start of these anchors, in order; None if one of them is not in the index."""
        if not anchors or not self._known.issuperset(anchors):
            return None
        found = [self._starts[a] for a in anchors if a in self._starts]
        if len(found) <= 1:
            return found[0] if found else []
        return sorted({start for starts in found for start in starts})


class AnchorIndex:
    """One automaton over many anchors, built once per configuration."""

    def __init__(self, anchors: Iterable[str]):
        self.known = frozenset(anchors)
        self._anchors = sorted(self.known)
        # A phrase starting with a letter, digit or punctuation must start a word; CJK need not.
        self._word_start = [not is_cjk(anchor[0]) for anchor in self._anchors]
        # Overlapping: every anchor at every place, also one inside another ("PLA" in "PLA filament").
        self._automaton = ahocorasick_rs.AhoCorasick(self._anchors) if self._anchors else None

    def find(self, text: str) -> FoundAnchors | None:
        """The anchors in `text` (normalised), each at the starts where a phrase could begin; None if
        the text cannot be folded (then patterns scan the whole text)."""
        folded = fold(text)
        if folded is None:
            return None
        starts: dict[str, list[int]] = {}
        if self._automaton is None:
            return FoundAnchors(starts, self.known, folded)
        collapsed = _Collapsed.of(folded)
        run_ends, removed = collapsed.run_ends, collapsed.removed
        anchors, word_start = self._anchors, self._word_start
        # The loop runs once per candidate (hundreds per article), so is_word_char is written out in it.
        for index, start, _ in self._automaton.find_matches_as_indexes(collapsed.text, overlapping=True):
            start += removed[bisect.bisect_right(run_ends, start) - 1]  # its offset in `text`
            # Most candidates are an anchor inside a longer word: the cheapest check first.
            if start and word_start[index]:
                before = text[start - 1]
                if before.isalnum() or before == "_":
                    continue
            if (found := starts.get(anchors[index])) is None:
                starts[anchors[index]] = [start]
            else:
                found.append(start)
        return FoundAnchors(starts, self.known, folded)


def is_word_char(char: str) -> bool:
    r"""What `\w` matches in a str pattern (CPython's sre tests exactly this)."""
    return char.isalnum() or char == "_"
