"""Filler prose that differs from story to story, for synthetic news pages.

Templated pages ("{company} reported results for unit {n}...") are near-copies of one another, which
the near-copy detector rightly folds into one story. A paragraph of words drawn per story keeps
synthetic stories as different as real ones.
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


def distinct_prose(seed: str, words: int = 90) -> str:
    """`words` words, the same for the same seed, different for different seeds."""
    rng = random.Random(seed)
    chosen = [rng.choice(_WORDS) for _ in range(words)]
    return " ".join(chosen).capitalize() + "."
