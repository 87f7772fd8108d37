"""Filler prose that differs from story to story, for synthetic news pages.

Templated pages ("{company} reported results for unit {n}...") are near-copies of one another, which
the near-copy detector rightly folds into one story, and they share every name and rare word, which the
story grouper rightly folds into one event. A paragraph of words drawn per story, a third of them
invented names and words of its own, keeps synthetic stories as different as real ones.
"""

from __future__ import annotations

import random

_WORDS = [
    "market",
    "analysts",
    "expect",
    "growth",
    "demand",
    "supply",
    "chain",
    "factory",
    "output",
    "export",
    "import",
    "tariff",
    "policy",
    "regulator",
    "investors",
    "shares",
    "revenue",
    "profit",
    "margin",
    "quarter",
    "forecast",
    "guidance",
    "customers",
    "cloud",
    "servers",
    "chips",
    "design",
    "software",
    "platform",
    "partners",
    "contract",
    "agreement",
    "province",
    "capital",
    "region",
    "officials",
    "ministry",
    "statement",
    "report",
    "survey",
    "index",
    "rate",
    "prices",
    "inflation",
    "consumers",
    "retail",
    "online",
    "logistics",
    "shipping",
    "ports",
    "energy",
    "power",
    "grid",
    "battery",
    "vehicle",
    "network",
    "security",
    "data",
    "privacy",
    "court",
    "ruling",
    "appeal",
    "filing",
    "board",
    "director",
    "founder",
    "startup",
    "venture",
    "funding",
    "valuation",
    "listing",
    "exchange",
]


_SYLLABLES = ["ka", "lo", "ven", "mir", "tas", "zu", "rel", "dor", "qui", "bex", "san", "tov", "ny", "pha"]


def distinct_prose(seed: str, words: int = 90) -> str:
    """`words` words, the same for the same seed, different for different seeds."""
    rng = random.Random(seed)
    # This story's own names ("Venmirtas") and rare words: what tells two real stories apart.
    own = ["".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(12)]
    own_names = {word: word.capitalize() for word in own[:6]}
    chosen = [rng.choice(own) if n % 3 == 1 else rng.choice(_WORDS) for n in range(words)]
    return " ".join(own_names.get(word, word) for word in chosen).capitalize() + "."
