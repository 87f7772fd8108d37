"""Story stage: which stored story, if any, is this article another outlet's report of?

Two outlets writing up one event share few sentences (near-copy detection, neardup.py, cannot see it)
but many of the same rare words: the company, the product, the figures, the place. Two different events
about one company share the company's name and little else. So an article is described by two
weighted word vectors, and compared with the recent articles that share its most telling names:

- `words`: every word of title and text, weighted by how rare it is in general English (wordfreq's
  Zipf scale, read from the compact table in monitor/data; "said" weighs nothing, "Xinchuang" the
  most) and sublinearly by how often it occurs;
- `names`: capitalised words and figures only, weighted by rarity and by plain count, with the title
  counting three times: what the article is *about*. A passing mention of another story's company
  ("... days after Huawei's court case") adds little to it.

The score is the mean of the two cosines. General-English rarity needs no corpus: a new install with an
empty store weighs words the same as one that has seen a million articles, and two instances agree.
Measured on tests/fixtures/stories (bench/stories.py prints it): grouping is exact for any threshold
from 0.30 to 0.40. STORY_THRESHOLD sits in the upper half of that range on purpose: a wrong join costs
more than a missed one (a missed join is one extra alert; a wrong one can hide an article as a reply, or
post nothing when its outlet is already in the thread). A small embedding model (all-MiniLM-L6-v2,
shipped in a PyPI package) did no better on the same set and costs 1.4 GB of installs: docs/stories.md.

Scripts written without spaces (Chinese, Japanese) have no capitalised names, so their articles are not
grouped here (each alerts on its own); their near-copies are still found (neardup.py).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache

from ..data.zipf import zipf_frequency
from ..text import normalise_text

STORY_THRESHOLD = 0.375
# Guards for articles with little to compare: a short piece whose one name is "Alibaba" has a names
# vector identical to every Alibaba story's. Two reports of one event also share vocabulary beyond names
# (the corpus's same-story pairs: words cosine 0.336 at least) and more than one name.
MIN_WORDS_SIMILARITY = 0.25
MIN_SHARED_NAMES = 2
# Zipf frequency of the commonest words ("the" is 7.7); weights are how far below it a word lies.
_ZIPF_CEILING = 7.0
# A capitalised word at least this common ("The", "But", "Monday") is not a name.
_NAME_MAX_ZIPF = 5.0
_OPENER_MAX_ZIPF = 3.5
# Vectors are cut to their heaviest entries before they are stored: the tail adds nothing to a cosine
# between two articles about one event, and the profile stays a few kilobytes.
WORDS_KEPT = 150
NAMES_KEPT = 60
# The names an article is indexed by; candidates are the articles sharing at least one.
KEYS_KEPT = 12
# Below this many words (a feed teaser) there is too little to tell stories apart: the article stands alone.
MIN_WORDS = 40

# Words with their inner apostrophes and hyphens; a possessive's "'s" is left out, so "Alibaba's" is
# the name "Alibaba".
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|\w(?:[\w-]|[’'](?![sS]\b))*")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:])\s+|\n+")


@dataclass(frozen=True)
class StoryProfile:
    """What an article is about, as two unit-length weighted word vectors, and its index keys."""

    words: dict[str, float]
    names: dict[str, float]

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(self.names, key=self.names.__getitem__, reverse=True)[:KEYS_KEPT])

    def to_json(self) -> str:
        return json.dumps({"w": self.words, "n": self.names}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str) -> StoryProfile:
        loaded = json.loads(data)
        return cls(words=loaded["w"], names=loaded["n"])

    def similarity(self, other: StoryProfile) -> float:
        """The mean of the words and names cosines; 0 when the guards say there is too little in common."""
        words = _cosine(self.words, other.words)
        if words < MIN_WORDS_SIMILARITY or len(self.names.keys() & other.names.keys()) < MIN_SHARED_NAMES:
            return 0.0
        return (words + _cosine(self.names, other.names)) / 2


@dataclass(frozen=True)
class StoryCandidate:
    """A stored article that might report the same event: its id, its story, its profile."""

    article_id: int
    story_id: int
    profile: str  # StoryProfile JSON, parsed only when compared


def profile_article(title: str, text: str) -> StoryProfile | None:
    """The article's story profile, or None when the text is too short to compare."""
    text = normalise_text(text)
    body_tokens = _TOKEN.findall(text)
    if len(body_tokens) < MIN_WORDS:
        return None
    words: Counter[str] = Counter(t.casefold() for t in body_tokens if _is_content(t))
    for token in _TOKEN.findall(title):
        if _is_content(token):
            words[token.casefold()] += 2
    names = Counter(_names(text))
    for name in _names(title):
        names[name] += 3
    return StoryProfile(
        words=_unit({w: (1 + math.log(n)) * _rarity(w) for w, n in words.items()}, WORDS_KEPT),
        names=_unit({w: n * _rarity(w) for w, n in names.items()}, NAMES_KEPT),
    )


def best_story(
    profile: StoryProfile, candidates: list[StoryCandidate]
) -> tuple[StoryCandidate, float] | None:
    """The candidate most like the article, if it scores at least STORY_THRESHOLD."""
    best: tuple[StoryCandidate, float] | None = None
    for candidate in candidates:
        score = profile.similarity(StoryProfile.from_json(candidate.profile))
        if score >= STORY_THRESHOLD and (best is None or score > best[1]):
            best = (candidate, score)
    return best


def shared_names(a: StoryProfile, b: StoryProfile, limit: int = 6) -> list[str]:
    """The names two articles share, heaviest first: what `stories` shows as the reason they were joined."""
    shared = set(a.names) & set(b.names)
    return sorted(shared, key=lambda name: a.names[name] * b.names[name], reverse=True)[:limit]


def _names(text: str) -> list[str]:
    """Capitalised words that are not sentence openers or common words, and figures of two or more digits."""
    found = []
    for sentence in _SENTENCE_BREAK.split(text):
        for position, token in enumerate(_TOKEN.findall(sentence)):
            if token[0].isdigit():
                if len(token) >= 2:
                    found.append(token.rstrip("%"))
            elif token[0].isupper() and _is_name(token.casefold(), opens_sentence=position == 0):
                found.append(token.casefold())
    return found


def _is_name(word: str, *, opens_sentence: bool) -> bool:
    # A sentence's first word is capitalised anyway: there it is a name only if it is rare as a word too.
    return _zipf(word) < (_OPENER_MAX_ZIPF if opens_sentence else _NAME_MAX_ZIPF)


def _is_content(token: str) -> bool:
    return len(token) > 2 or token[0].isdigit()


def _rarity(word: str) -> float:
    return max(0.0, _ZIPF_CEILING - _zipf(word))


# A lookup in the table costs ~5 us, a cached one 0.1 us; the first 1,000-feed cycle of bench/memory.py
# asks for ~6,500 words. Every entry costs ~180 bytes and its word, so the cache is capped well below the
# ~200,000 distinct words a long-running service may meet (that would be ~36 MiB), and a word longer
# than _LONGEST_CACHED_WORD (a page's 10,000-letter "word") is looked up uncached: at most ~20 MiB.
_LONGEST_CACHED_WORD = 40


def _zipf(word: str) -> float:
    return zipf_frequency(word) if len(word) > _LONGEST_CACHED_WORD else _cached_zipf(word)


@lru_cache(maxsize=50_000)
def _cached_zipf(word: str) -> float:
    return zipf_frequency(word)


def _unit(vector: dict[str, float], kept: int) -> dict[str, float]:
    heaviest = sorted(vector.items(), key=lambda item: item[1], reverse=True)[:kept]
    norm = math.sqrt(sum(weight * weight for _, weight in heaviest)) or 1.0
    return {word: round(weight / norm, 5) for word, weight in heaviest if weight > 0}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(word, 0.0) for word, weight in a.items())
