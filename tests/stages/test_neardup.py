"""Near-copy detection: MinHash signatures and LSH bands, scored on the labelled story corpus."""

from __future__ import annotations

import sys
from pathlib import Path

from monitor.stages.neardup import BANDS, best_copy, sign_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.stories import copy_detection_scores, load_corpus

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
MINT = (PAGES / "mint-alibaba-denies.expected.txt").read_text(encoding="utf-8")
BLOG = (PAGES / "financeblog-alibaba-pla.expected.txt").read_text(encoding="utf-8")


def test_copy_detection_on_the_labelled_corpus() -> None:
    scores = copy_detection_scores(load_corpus())
    # Issue 5's target is F1 >= 0.98; measured 1.000 (24 copy pairs among 2,211).
    assert scores["f1"] >= 0.98, scores
    assert scores["fp"] == 0, scores


def test_a_copy_with_other_boilerplate_is_found_and_a_rewrite_is_not() -> None:
    original = sign_text(MINT)
    copy = sign_text("Source link\nAlso Read | Markets today\n" + MINT + "\n(With inputs from Reuters)")
    rewrite = sign_text(BLOG)
    assert original and copy and rewrite
    assert len(original.bands) == BANDS
    assert best_copy(copy, [(1, original.values)]) is not None
    assert best_copy(rewrite, [(1, original.values)]) is None


def test_short_texts_are_not_signed() -> None:
    assert sign_text("Alibaba denied the report. " * 5) is None


def test_signatures_are_stable_across_processes() -> None:
    # The seed is fixed, so a signature stored by one process compares with another's.
    first, second = sign_text(MINT), sign_text(MINT)
    assert first and second and first.values == second.values and first.bands == second.bands
