"""Score extract_article on a labelled page set, beside plain trafilatura and a naive full-page baseline.

    python bench/extraction.py [--set NAME] [--data-dir DIR] [--json] [--worst N]

Sets (bench/extraction_sets.py; where the pages come from: bench/data/README.md): article-extraction
(the default: 181 pages with hand-made main text, the set extraction is tuned on), newspaper4k and
trafilatura-eval (kept out of tuning). bench/extraction_score.py implements the metric.

The reference is plain trafilatura as a user would call it, `favor_precision=True` with our text options
(no comments, tables kept): "worse"/"better" count the pages where our F1 is lower/higher than its by more
than 0.05, and the time columns are ratios to its time on the same pages in the same run. The baseline is
every string of the page (BeautifulSoup(html).get_text()): what extraction buys over doing nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, for `bench.*`

from bench.extraction_score import CorpusScore, PageScore, f1_from, score_corpus
from bench.extraction_sets import DEFAULT_DIRS, LOADERS, MARKERS, BenchmarkPage, load_article_extraction
from monitor.errors import ExtractionError
from monitor.models import Page
from monitor.stages.extract import _TEXT_OPTIONS, extract_article

DEFAULT_BENCHMARK_DIR = DEFAULT_DIRS["article-extraction"]
MARGIN = 0.05  # a page counts as worse or better than the reference past this F1 difference


@dataclass(frozen=True)
class ExtractorRun:
    """How one extractor did on the whole set."""

    name: str
    score: CorpusScore
    seconds: list[float]  # per page, extraction only
    failures: int  # pages where the extractor gave up (scored as an empty prediction)
    pages: dict[str, PageScore]

    @property
    def mean_seconds(self) -> float:
        return statistics.fmean(self.seconds) if self.seconds else 0.0

    @property
    def p95_seconds(self) -> float:
        return statistics.quantiles(self.seconds, n=20)[-1] if len(self.seconds) > 1 else self.mean_seconds


def load_benchmark(directory: Path) -> list[BenchmarkPage]:
    """The article-extraction benchmark (the quality gate's set)."""
    return load_article_extraction(directory)


def extract_with_monitor(page: BenchmarkPage) -> str | None:
    """Our extractor; None when it raises ExtractionError (counted as a failure)."""
    try:
        return extract_article(Page(url=page.url, html=page.html), authors=False).text
    except ExtractionError:
        return None


def extract_with_trafilatura(page: BenchmarkPage) -> str | None:
    """Plain trafilatura, favouring precision, with the same text options as ours."""
    return trafilatura.extract(page.html, url=page.url, favor_precision=True, **_TEXT_OPTIONS)


def extract_with_get_text(page: BenchmarkPage) -> str | None:
    """The baseline: all the page's text, boilerplate and all."""
    return BeautifulSoup(page.html, "lxml").get_text()


EXTRACTORS: dict[str, Callable[[BenchmarkPage], str | None]] = {
    "extract_article": extract_with_monitor,
    "trafilatura": extract_with_trafilatura,
    "bs4 get_text": extract_with_get_text,
}


def run_extractors(
    extractors: dict[str, Callable[[BenchmarkPage], str | None]], pages: Sequence[BenchmarkPage]
) -> list[ExtractorRun]:
    """Run every extractor on each page in turn, timing the extraction only, and score the results.

    Page by page, in an order that rotates, after one untimed warm-up page each: the extractors then
    share the machine's state (caches, other load) alike, and none pays the lazy imports for the rest.
    """
    names = list(extractors)
    for name in names:
        extractors[name](pages[0])
    scores: dict[str, dict[str, PageScore]] = {name: {} for name in names}
    seconds: dict[str, list[float]] = {name: [] for name in names}
    failures = dict.fromkeys(names, 0)
    for index, page in enumerate(pages):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            started = time.perf_counter()
            prediction = extractors[name](page)
            seconds[name].append(time.perf_counter() - started)
            failures[name] += prediction is None
            scores[name][page.page_id] = page.score(prediction)
    return [
        ExtractorRun(name, score_corpus(scores[name].values()), seconds[name], failures[name], scores[name])
        for name in names
    ]


def page_f1(score: PageScore) -> float:
    return f1_from(score.precision or 0.0, score.recall)


def worse_and_better(run: ExtractorRun, reference: ExtractorRun) -> tuple[int, int]:
    """Pages where the run's F1 is below / above the reference's by more than MARGIN."""
    deltas = [page_f1(run.pages[key]) - page_f1(reference.pages[key]) for key in run.pages]
    return sum(delta < -MARGIN for delta in deltas), sum(delta > MARGIN for delta in deltas)


def format_table(runs: Sequence[ExtractorRun], reference: ExtractorRun) -> str:
    """A plain-text table; the last columns compare each run with the reference (plain trafilatura)."""
    lines = [
        f"{'extractor':<16} {'P':>6} {'R':>6} {'F1':>6} {'acc':>6} {'failed':>6} {'worse':>5} {'better':>6} "
        f"{'ms mean':>8} {'ms p95':>7} {'mean ratio':>10} {'p95 ratio':>9}"
    ]
    for run in runs:
        s = run.score
        worse, better = worse_and_better(run, reference)
        mean_ratio = run.mean_seconds / reference.mean_seconds if reference.mean_seconds else 0.0
        p95_ratio = run.p95_seconds / reference.p95_seconds if reference.p95_seconds else 0.0
        lines.append(
            f"{run.name:<16} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.accuracy:6.3f} "
            f"{run.failures:6d} {worse:5d} {better:6d} {run.mean_seconds * 1000:8.1f} "
            f"{run.p95_seconds * 1000:7.1f} {mean_ratio:10.2f} {p95_ratio:9.2f}"
        )
    return "\n".join(lines)


def format_worst(
    run: ExtractorRun, reference: ExtractorRun, pages: Sequence[BenchmarkPage], count: int
) -> str:
    """Our pages with the lowest F1, with the reference's F1 beside: where to look when tuning."""
    urls = {page.page_id: page.url for page in pages}
    ranked = sorted(run.pages.items(), key=lambda item: page_f1(item[1]))
    return "\n".join(
        f"{page_f1(s):.3f} (trafilatura {page_f1(reference.pages[key]):.3f})  P={s.precision or 0.0:.3f} "
        f"R={s.recall:.3f}  {key[:24]}  {urls[key]}"
        for key, s in ranked[:count]
    )


def as_json(runs: Sequence[ExtractorRun], reference: ExtractorRun) -> str:
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
                "worse_than_trafilatura": worse_and_better(run, reference)[0],
                "better_than_trafilatura": worse_and_better(run, reference)[1],
                "seconds_per_page_mean": run.mean_seconds,
                "seconds_per_page_p95": run.p95_seconds,
            }
            for run in runs
        ],
        indent=2,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--set", choices=sorted(LOADERS), default="article-extraction", dest="page_set")
    parser.add_argument(
        "--data-dir", "--benchmark-dir", type=Path, help="where the set lies (default: per set)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--worst", type=int, default=0, metavar="N", help="list our N lowest-F1 pages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = args.data_dir or DEFAULT_DIRS[args.page_set]
    if not (directory / MARKERS[args.page_set]).exists():
        print(
            f"no {args.page_set} set at {directory}: see bench/data/README.md, or pass --data-dir",
            file=sys.stderr,
        )
        return 2
    pages = LOADERS[args.page_set](directory)
    runs = run_extractors(EXTRACTORS, pages)
    reference = runs[1]
    print(f"{args.page_set}: {len(pages)} pages")
    print(as_json(runs, reference) if args.json else format_table(runs, reference))
    if args.worst:
        print("\n" + format_worst(runs[0], reference, pages, args.worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
