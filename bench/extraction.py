"""Score extract_article on the article-extraction benchmark, next to a naive full-page baseline.

    python bench/extraction.py [--benchmark-dir DIR] [--json] [--worst N]

The benchmark (181 news pages with hand-made main text) and its metric are described in its
README.md; bench/extraction_score.py implements the metric. The baseline is every string of the
page (BeautifulSoup(html).get_text()): it shows what extraction buys over doing nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, for `bench.*`

from bench.extraction_score import CorpusScore, PageScore, f1_from, score_corpus, score_page
from monitor.errors import ExtractionError
from monitor.models import Page
from monitor.stages.extract import extract_article

DEFAULT_BENCHMARK_DIR = Path(__file__).resolve().parent.parent.parent / "shared/benchmarks/article-extraction"


@dataclass(frozen=True)
class BenchmarkPage:
    """One benchmark page: its HTML and the ground truth of its main text."""

    page_id: str
    url: str
    html: str
    truth: str


@dataclass(frozen=True)
class ExtractorRun:
    """How one extractor did on the whole benchmark."""

    name: str
    score: CorpusScore
    seconds_per_page: float
    failures: int  # pages where the extractor gave up (scored as an empty prediction)
    pages: dict[str, PageScore]


def load_benchmark(directory: Path) -> list[BenchmarkPage]:
    """Read ground-truth.json and the gzipped HTML of every page it lists."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        BenchmarkPage(page_id, entry["url"], read_page_html(directory, page_id), entry["articleBody"])
        for page_id, entry in sorted(truth.items())
    ]


def read_page_html(directory: Path, page_id: str) -> str:
    """The page's HTML, as the benchmark README says to read it."""
    with gzip.open(directory / "html" / f"{page_id}.html.gz", "rt", encoding="utf-8") as file:
        return file.read()


def extract_with_monitor(page: BenchmarkPage) -> str | None:
    """Our extractor; None when it raises ExtractionError (counted as a failure)."""
    try:
        return extract_article(Page(url=page.url, html=page.html)).text
    except ExtractionError:
        return None


def extract_with_get_text(page: BenchmarkPage) -> str | None:
    """The baseline: all the page's text, boilerplate and all."""
    return BeautifulSoup(page.html, "lxml").get_text()


def run_extractor(
    name: str, extract: Callable[[BenchmarkPage], str | None], pages: Sequence[BenchmarkPage]
) -> ExtractorRun:
    """Run one extractor over every page, timing the extraction only, and score the results."""
    scores: dict[str, PageScore] = {}
    failures, elapsed = 0, 0.0
    for page in pages:
        started = time.perf_counter()
        prediction = extract(page)
        elapsed += time.perf_counter() - started
        failures += prediction is None
        scores[page.page_id] = score_page(page.truth, prediction)
    return ExtractorRun(name, score_corpus(scores.values()), elapsed / max(len(pages), 1), failures, scores)


def format_table(runs: Sequence[ExtractorRun]) -> str:
    """A plain-text table; the last columns compare each run with the last one (the baseline)."""
    baseline = runs[-1]
    lines = [
        f"{'extractor':<16} {'P':>6} {'R':>6} {'F1':>6} {'acc':>6} {'s/page':>8} {'failed':>6} "
        f"{'F1 ratio':>8} {'time ratio':>10}"
    ]
    for run in runs:
        s = run.score
        f1_ratio = s.f1 / baseline.score.f1 if baseline.score.f1 else 0.0
        time_ratio = run.seconds_per_page / baseline.seconds_per_page if baseline.seconds_per_page else 0.0
        lines.append(
            f"{run.name:<16} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.accuracy:6.3f} "
            f"{run.seconds_per_page:8.4f} {run.failures:6d} {f1_ratio:8.2f} {time_ratio:10.2f}"
        )
    return "\n".join(lines)


def format_worst(run: ExtractorRun, pages: Sequence[BenchmarkPage], count: int) -> str:
    """The pages where the run scored the lowest F1, to look at when tuning."""
    urls = {page.page_id: page.url for page in pages}
    ranked = sorted(run.pages.items(), key=lambda item: f1_from(item[1].precision or 0.0, item[1].recall))
    return "\n".join(
        f"{f1_from(s.precision or 0.0, s.recall):.3f}  P={s.precision or 0.0:.3f} R={s.recall:.3f}  "
        f"{page_id[:12]}  {urls[page_id]}"
        for page_id, s in ranked[:count]
    )


def as_json(runs: Sequence[ExtractorRun]) -> str:
    """Machine-readable results: one object per extractor."""
    return json.dumps(
        [
            {
                "extractor": run.name,
                "precision": run.score.precision,
                "recall": run.score.recall,
                "f1": run.score.f1,
                "accuracy": run.score.accuracy,
                "pages": run.score.pages,
                "failures": run.failures,
                "seconds_per_page": run.seconds_per_page,
            }
            for run in runs
        ],
        indent=2,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--benchmark-dir", type=Path, default=DEFAULT_BENCHMARK_DIR)
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--worst", type=int, default=0, metavar="N", help="list our N lowest-F1 pages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.benchmark_dir / "ground-truth.json").is_file():
        print(f"no benchmark at {args.benchmark_dir}: pass --benchmark-dir", file=sys.stderr)
        return 2
    pages = load_benchmark(args.benchmark_dir)
    runs = [
        run_extractor("extract_article", extract_with_monitor, pages),
        run_extractor("bs4 get_text", extract_with_get_text, pages),
    ]
    print(as_json(runs) if args.json else format_table(runs))
    if args.worst:
        print("\n" + format_worst(runs[0], pages, args.worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
