"""English word frequency on the Zipf scale: wordfreq.zipf_frequency(word, "en"), from a compact table.

wordfreq holds its English list as a dict of 321,180 str -> float once first used, about 37 MiB of a
service that should stay under 150 MB. zipf_en.bin (written by scripts/make_zipf_table.py from wordfreq
itself) holds the same list in 3.2 MB: each word's 64-bit hash, sorted, and its frequency in centibels,
as wordfreq stores it. A word is looked up as wordfreq looks it up (its tokens, digits smashed to zeroes
and weighed by digit_freq, the frequencies combined and rounded alike), so the values are wordfreq's
own: tests/stages/test_stories.py compares them on every word of the stories corpus and a sample of
the list. A word of ASCII letters is one token to wordfreq's tokenizer, so only other words (figures,
hyphens, apostrophes, other scripts) need it, and the wordfreq package is imported when one first does.
Two of 2^64 hashes colliding is checked when the table is written; an unknown word taking a listed
word's hash has a chance of about 1 in 5e13 per lookup.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from array import array
from bisect import bisect_left
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("zipf_en.bin")
_MAGIC = b"zipf-en1"
_HEADER_BYTES = len(_MAGIC) + 8
# wordfreq.zipf_frequency's default minimum (Zipf 0) as the frequency word_frequency compares against.
_MINIMUM = 10**0 / 1e9
# One token to wordfreq's tokenizer, left as it is (lowercase ASCII letters have no word break inside).
_ONE_TOKEN = re.compile(r"[a-z]+")


def zipf_frequency(word: str) -> float:
    """wordfreq.zipf_frequency(word, "en"): 0.0 for a word not in the list, about 7.7 for "the"."""
    return round(math.log(_word_frequency(word), 10) + 9, 2)


def _word_frequency(word: str) -> float:
    # wordfreq's _word_frequency(word, "en", "best", _MINIMUM), step by step, with the table for its dict.
    tokens = [word] if _ONE_TOKEN.fullmatch(word) else _tokenize(word)
    if not tokens:
        return _MINIMUM
    one_over_result = 0.0
    for token in tokens:
        freq = _token_frequency(token)
        if freq is None:
            return _MINIMUM
        one_over_result += 1.0 / freq
    unrounded = max(1.0 / one_over_result, _MINIMUM)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(unrounded, leading_zeroes + 3)


def _token_frequency(token: str) -> float | None:
    if not any(char.isdigit() for char in token):
        return _listed_frequency(token)
    from wordfreq.numbers import digit_freq, smash_numbers

    smashed = smash_numbers(token)
    freq = _listed_frequency(smashed)
    if freq is None or smashed == token:
        return freq
    return freq * digit_freq(token)


def _tokenize(word: str) -> list[str]:
    from wordfreq.tokens import lossy_tokenize

    return lossy_tokenize(word, "en")


def _listed_frequency(token: str) -> float | None:
    """The token's frequency in wordfreq's English list (its cB_to_freq), None when it is not listed."""
    hashes, centibels = _table()
    key = word_hash(token)
    index = bisect_left(hashes, key)
    if index == len(hashes) or hashes[index] != key:
        return None
    return 10 ** (-centibels[index] / 100)


def word_hash(word: str) -> int:
    """A stable 64-bit hash of the word (Python's own hash() changes between processes)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


@lru_cache(maxsize=1)
def _table() -> tuple[array[int], array[int]]:
    return read_table(TABLE_PATH)


def read_table(path: Path) -> tuple[array[int], array[int]]:
    """The sorted word hashes and, at the same positions, their frequencies in centibels below 1."""
    data = path.read_bytes()
    if data[: len(_MAGIC)] != _MAGIC:
        raise ValueError(f"{path} is not a word-frequency table (scripts/make_zipf_table.py writes one)")
    count = int.from_bytes(data[len(_MAGIC) : _HEADER_BYTES], "little")
    hashes, centibels = array("Q"), array("H")
    hashes.frombytes(data[_HEADER_BYTES : _HEADER_BYTES + 8 * count])
    centibels.frombytes(data[_HEADER_BYTES + 8 * count :])
    if sys.byteorder == "big":
        hashes.byteswap()
        centibels.byteswap()
    if len(hashes) != count or len(centibels) != count:
        raise ValueError(f"{path} is truncated: run scripts/make_zipf_table.py again")
    return hashes, centibels


def write_table(path: Path, centibels: Mapping[int, int]) -> None:
    """Write {word_hash: centibels below 1} as read_table reads it."""
    keys = sorted(centibels)
    hashes, values = array("Q", keys), array("H", (centibels[key] for key in keys))
    if sys.byteorder == "big":
        hashes.byteswap()
        values.byteswap()
    path.write_bytes(_MAGIC + len(keys).to_bytes(8, "little") + hashes.tobytes() + values.tobytes())
