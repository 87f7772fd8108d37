"""Near-duplicate stage: is this article's text mostly the same as one stored in the story window?

Exact fingerprints (dedupe.py) miss syndicated copies with other boilerplate or a changed first
paragraph. MinHash (computed as datasketch does, see minhash_values) estimates the Jaccard similarity
of two texts' word shingles from small signatures; LSH banding finds the candidates with indexed
lookups (one per band) instead of a scan over every stored article, so the cost per article stays flat
as the store grows. The bands live in the store (storage decides, and the index survives restarts and
serves several instances).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..text import normalise_text

# Word 5-shingles: long enough that two different articles about one company share few of them,
# short enough that a changed sentence only touches the shingles around it.
SHINGLE_WORDS = 5
# 128 permutations, of which 42 bands of 3 rows are indexed: a pair at Jaccard 0.4 shares a band with
# probability 1 - (1 - 0.4^3)^42 = 94 %, at 0.5 98.5 %, at 0.16 (the most two different stories share in
# tests/fixtures/stories) 16 %, and those few false candidates are dropped by COPY_THRESHOLD.
NUM_PERM = 128
BANDS = 42
ROWS = 3
# Estimated Jaccard similarity from which a text counts as a copy. Measured on tests/fixtures/stories
# (bench/stories.py): lightly edited copies score 0.53-0.64, verbatim ones with other boilerplate
# 0.85-1.0; rewrites by other outlets at most 0.06 and different stories at most 0.16. The threshold
# sits between, more than three standard errors of a 128-permutation estimate (0.044) from both sides.
COPY_THRESHOLD = 0.4
# Shorter texts (teasers, feed summaries) share too many stock phrases to compare reliably.
MIN_WORDS = 60
_SEED = 1  # fixed, so signatures stored by one process compare with another's

# Chinese, Japanese and Korean are written without spaces: there every character is a "word", so a
# clause is not one giant token (and a 500-character article not "19 words").
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


@dataclass(frozen=True)
class Signature:
    """A text's MinHash signature, and the band keys the store indexes it by."""

    values: bytes  # NUM_PERM uint64, little-endian
    bands: tuple[str, ...]

    def similarity(self, other_values: bytes) -> float:
        """Estimated Jaccard similarity with another stored signature."""
        mine = np.frombuffer(self.values, dtype="<u8")
        theirs = np.frombuffer(other_values, dtype="<u8")
        return float(np.count_nonzero(mine == theirs)) / NUM_PERM


def sign_text(text: str) -> Signature | None:
    """The signature of an article's text, or None when it is too short to compare."""
    words = _WORD.findall(normalise_text(text).casefold())
    if len(words) < MIN_WORDS:
        return None
    shingles = (
        " ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)
    )
    values = minhash_values(shingles).astype("<u8")
    return Signature(values=values.tobytes(), bands=_band_keys(values))


# MinHash as datasketch 2 computes it by default (its "affine32" scheme): the first 32 bits of each
# shingle's SHA-1, mixed by MurmurHash3's finalizer, through NUM_PERM permutations h -> a*h + b mod 2^32
# drawn from RandomState(_SEED), keeping each one's minimum. Written out here, not imported: `import
# datasketch` also imports SciPy, 55 MB of resident memory for nothing this service uses.
# tests/stages/test_neardup.py checks the values equal datasketch's, so stored signatures still compare.
_MAX_HASH = np.uint32(0xFFFFFFFF)


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.RandomState(_SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)  # odd
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_A, _B = _permutations()


def minhash_values(items: Iterable[bytes]) -> np.ndarray:
    """NUM_PERM MinHash values (uint32) of a set of byte strings."""
    digests = b"".join([hashlib.sha1(item).digest()[:4] for item in items])
    hashes = np.frombuffer(digests, dtype="<u4").astype(np.uint32)
    if hashes.size == 0:
        return np.full(NUM_PERM, _MAX_HASH, dtype=np.uint32)
    # uint32 arithmetic wraps around: that is the mod 2^32 of both the finalizer and the permutations.
    hashes ^= hashes >> np.uint32(16)
    hashes *= np.uint32(0x85EBCA6B)
    hashes ^= hashes >> np.uint32(13)
    hashes *= np.uint32(0xC2B2AE35)
    hashes ^= hashes >> np.uint32(16)
    # One row per permutation, updated in place: a second (permutations x shingles) temporary, or taking
    # the minimum across rows instead of along them, made this 10x slower (1.5 ms vs 0.1 for 3,500).
    permuted = np.multiply(_A.reshape(-1, 1), hashes)
    permuted += _B.reshape(-1, 1)
    return permuted.min(axis=1)


def _band_keys(values: np.ndarray) -> tuple[str, ...]:
    keys = []
    for band in range(BANDS):
        rows = values[band * ROWS : (band + 1) * ROWS].tobytes()
        keys.append(f"{band}:{hashlib.blake2b(rows, digest_size=12).hexdigest()}")
    return tuple(keys)


def best_copy(signature: Signature, candidates: list[tuple[int, bytes]]) -> tuple[int, float] | None:
    """The most similar candidate at or above COPY_THRESHOLD, as (article_id, similarity)."""
    scored = [(article_id, signature.similarity(values)) for article_id, values in candidates]
    above = [pair for pair in scored if pair[1] >= COPY_THRESHOLD]
    return max(above, key=lambda pair: pair[1]) if above else None
