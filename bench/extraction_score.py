"""Scoring for the article-extraction benchmark, as its README (upstream `evaluate.py`) defines it.

Pure functions, no I/O, so the quality-gate test and `bench/extraction.py` share one implementation:
tokens are `\\w+` runs (case kept), texts become multisets of 4-token shingles, each page gets a
precision and a recall, and the corpus F1 is computed from the mean precision and the mean recall.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SHINGLE_SIZE = 4  # the benchmark's n-gram length
_TOKEN = re.compile(r"\w+")

Shingle = tuple[str, ...]


@dataclass(frozen=True)
class PageScore:
    """One page's shingle counts; precision is None when the prediction has no shingles."""

    tp: int
    fp: int
    fn: int
    exact: bool  # the whole token sequence equals the truth's

    @property
    def precision(self) -> float | None:
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else None

    @property
    def recall(self) -> float:
        truth = self.tp + self.fn
        return self.tp / truth if truth else 0.0


@dataclass(frozen=True)
class CorpusScore:
    """Mean precision and recall over pages, F1 from those two means, and exact-match accuracy."""

    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int


def tokenize(text: str | None) -> list[str]:
    """Split text into maximal runs of word characters; punctuation and whitespace are dropped."""
    return _TOKEN.findall(text or "")


def shingles(tokens: Sequence[str], size: int = SHINGLE_SIZE) -> Counter[Shingle]:
    """Count every window of `size` tokens; 1 to size-1 tokens make one short shingle, none make none."""
    if not tokens:
        return Counter()
    if len(tokens) < size:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def score_page(truth: str, prediction: str | None) -> PageScore:
    """Compare one page's predicted text with its ground truth as shingle multisets."""
    truth_tokens, predicted_tokens = tokenize(truth), tokenize(prediction)
    truth_shingles, predicted_shingles = shingles(truth_tokens), shingles(predicted_tokens)
    tp = sum((truth_shingles & predicted_shingles).values())
    return PageScore(
        tp=tp,
        fp=sum(predicted_shingles.values()) - tp,
        fn=sum(truth_shingles.values()) - tp,
        exact=truth_tokens == predicted_tokens,
    )


def score_corpus(pages: Iterable[PageScore]) -> CorpusScore:
    """Average per-page scores; pages without predicted shingles are left out of the precision mean."""
    scores = list(pages)
    if not scores:
        return CorpusScore(precision=0.0, recall=0.0, f1=0.0, accuracy=0.0, pages=0)
    precisions = [s.precision for s in scores if s.precision is not None]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(s.recall for s in scores) / len(scores)
    return CorpusScore(
        precision=precision,
        recall=recall,
        f1=f1_from(precision, recall),
        accuracy=sum(s.exact for s in scores) / len(scores),
        pages=len(scores),
    )


def f1_from(precision: float, recall: float) -> float:
    """Harmonic mean of precision and recall; 0 when both are 0."""
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def token_f1(truth: str, prediction: str | None) -> float:
    """One page's shingle F1, for golden tests that compare a text with its expected text."""
    page = score_page(truth, prediction)
    return f1_from(page.precision or 0.0, page.recall)
