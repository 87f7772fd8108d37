"""Quality gate: extract_article must keep its score on the public article-extraction benchmark.

The benchmark (181 news pages with hand-made main text) lives outside the repo, at
../shared/benchmarks/article-extraction; the gate is skipped where it is absent. To see the full
table (with the naive baseline) or the worst pages: python bench/extraction.py --worst 20
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root: bench/ is not installed

from bench.extraction import DEFAULT_BENCHMARK_DIR, extract_with_monitor, load_benchmark
from bench.extraction_score import score_corpus, score_page

# Measured with trafilatura 2.3.1: P 0.968, R 0.976, F1 0.972, accuracy 0.403 (181 pages).
# The floor is that F1 minus 0.005: room for a dependency's small drift, not for a regression.
# Raise it when a change improves the score; never lower it to make a change pass.
F1_FLOOR = 0.967


@pytest.mark.parametrize(
    ("truth", "prediction", "counts"),
    [
        ("one two three four five", "one two three four five", (2, 0, 0)),
        ("one two three four five", "one two three four", (1, 0, 1)),
        ("one two three four", "one two three four five six", (1, 2, 0)),
        ("Hello, world!", "hello world", (0, 1, 1)),
        ("alpha beta", "", (0, 0, 1)),
    ],
)
def test_scoring_reproduces_the_readme_examples(truth: str, prediction: str, counts: tuple[int, ...]) -> None:
    page = score_page(truth, prediction)
    assert (page.tp, page.fp, page.fn) == counts


def test_page_without_prediction_is_left_out_of_precision_but_counts_for_recall() -> None:
    corpus = score_corpus(
        [score_page("one two three four", "one two three four"), score_page("alpha beta", "")]
    )
    assert corpus.precision == 1.0
    assert corpus.recall == 0.5
    assert corpus.f1 == pytest.approx(2 / 3)
    assert corpus.accuracy == 0.5


@pytest.mark.timeout(300)  # ~10 s on a laptop; the default 60 s is tight on a loaded CI runner
@pytest.mark.skipif(
    not (DEFAULT_BENCHMARK_DIR / "ground-truth.json").is_file(),
    reason=f"article-extraction benchmark not found at {DEFAULT_BENCHMARK_DIR}",
)
def test_benchmark_f1_stays_above_the_floor() -> None:
    pages = load_benchmark(DEFAULT_BENCHMARK_DIR)
    score = score_corpus(score_page(page.truth, extract_with_monitor(page)) for page in pages)
    assert score.pages == 181
    assert score.f1 >= F1_FLOOR, (
        f"extraction F1 fell to {score.f1:.4f} (P {score.precision:.3f}, R {score.recall:.3f}), "
        f"below the pinned floor {F1_FLOOR}; run python bench/extraction.py --worst 20 to see where"
    )
