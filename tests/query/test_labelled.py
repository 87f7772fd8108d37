"""The labelled set (labelled.yaml): every watchlist must match exactly the cases labelled for it.

Precision and recall are over (case, watchlist) decisions and must both be 1.0: a query language that
analysts tune by hand has to be predictable, so every miss here is a bug in the engine or in a label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from monitor.config import WatchlistConfig
from monitor.models import Article
from monitor.stages.match import CompiledWatchlist, compile_watchlist, match_article

LABELLED = Path(__file__).with_name("labelled.yaml")
MIN_CASES = 60


@dataclass(frozen=True)
class Case:
    title: str
    text: str
    expected: frozenset[str]
    why: str = ""


def load_set() -> tuple[list[CompiledWatchlist], list[Case]]:
    data: Any = YAML(typ="safe").load(LABELLED.read_text(encoding="utf-8"))
    watchlists = [compile_watchlist(WatchlistConfig.model_validate(w), "#c") for w in data["watchlists"]]
    cases = [Case(c["title"], c["text"], frozenset(c["match"]), c.get("why", "")) for c in data["cases"]]
    return watchlists, cases


def test_the_set_is_big_enough_and_its_labels_name_real_watchlists() -> None:
    watchlists, cases = load_set()
    names = {w.name for w in watchlists}
    assert len(cases) >= MIN_CASES
    assert all(case.expected <= names for case in cases), [sorted(c.expected - names) for c in cases]
    assert names <= {name for case in cases for name in case.expected}, "a watchlist no case expects to match"


def test_precision_and_recall_are_exactly_one() -> None:
    watchlists, cases = load_set()
    true_positives = false_positives = false_negatives = true_negatives = 0
    wrong: list[str] = []
    for case in cases:
        article = Article(url="https://x.example/a", title=case.title, text=case.text)
        matched = {m.watchlist for m in match_article(article, watchlists)}
        true_positives += len(matched & case.expected)
        false_positives += len(matched - case.expected)
        false_negatives += len(case.expected - matched)
        true_negatives += len(watchlists) - len(matched | case.expected)
        if matched != case.expected:
            wrong.append(
                f"{case.title!r} / {case.text[:60]!r}: unexpected {sorted(matched - case.expected)}, "
                f"missed {sorted(case.expected - matched)} ({case.why or 'no note'})"
            )
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    summary = (
        f"{len(cases)} cases x {len(watchlists)} watchlists: TP={true_positives} FP={false_positives} "
        f"FN={false_negatives} TN={true_negatives}; precision={precision:.3f} recall={recall:.3f}"
    )
    assert (precision, recall) == (1.0, 1.0), summary + "\n" + "\n".join(wrong)
