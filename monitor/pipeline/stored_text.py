"""What the store keeps of an article's text: capped per article and per feed poll.

The text is kept for `preview` and `backfill` only (review.py): they match the articles of the last
`retention` days against the current watchlists. Everything else the store compares later is computed
from the whole text before it is stored: the dedup fingerprint, the near-copy signature and the story
profile. So a cut text costs nothing but what preview and backfill can find past the cut.

Hostile input: a feed can bring 1,000 new items a poll, each with up to 200,000 characters of text;
stored whole and kept 14 days that was ~213 MB a poll. Now an article that matched nothing keeps its
first MAX_UNMATCHED_CHARS characters, a matched one all of its text (extract.MAX_TEXT_CHARS), and a
feed's poll stores at most MAX_CHARS_PER_POLL characters (at most 4 bytes each in UTF-8) in all; the
articles past that are stored without text (preview and backfill then skip them, as after pruning).
"""

from __future__ import annotations

import threading

from ..text import MAX_NORMALISED_CHARS

# The article-extraction benchmark's longest article is ~50,000 characters (extract.MAX_TEXT_CHARS is
# ~4x it): no real article loses text a later watchlist could match.
MAX_UNMATCHED_CHARS = 50_000
MAX_MATCHED_CHARS = MAX_NORMALISED_CHARS
# Forty articles of the longest kind, or ~400 of a typical 5,000 characters: a news feed's poll brings
# a few dozen new items.
MAX_CHARS_PER_POLL = 2_000_000


class StoredTextBudget:
    """One feed poll's allowance of stored text, shared by its items (recorded from several threads)."""

    def __init__(self, max_chars: int = MAX_CHARS_PER_POLL):
        self.left = max_chars
        self._lock = threading.Lock()

    def keep(self, text: str, *, matched: bool) -> str:
        """The part of `text` to store: within the article's cap and what the poll has left, cut at a
        line break when there is one."""
        with self._lock:
            room = min(MAX_MATCHED_CHARS if matched else MAX_UNMATCHED_CHARS, self.left)
            kept = text if len(text) <= room else _cut_at_line(text, room)
            self.left -= len(kept)
        return kept


def _cut_at_line(text: str, room: int) -> str:
    head = text[:room]
    kept, newline, _ = head.rpartition("\n")
    return kept if newline and len(kept) > room // 2 else head
