"""The labelled page sets bench/extraction.py scores extractors on, read from where they lie on disk.

    article-extraction   181 pages, hand-made full text (Zyte/Scrapinghub); the set extraction is tuned on
    newspaper4k          the real news pages of newspaper4k's test suite with their expected full text
    trafilatura-eval     pages of trafilatura's evaluation, scored by its hand-picked snippets: text that
                         must be kept ("with") and boilerplate that must not ("without")

The last two are kept out of tuning: bench/data/README.md says where they come from, their licences and
how to get them (pip downloads the packages whose source distributions ship the pages).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.extraction_score import PageScore, score_page

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = {
    "article-extraction": REPO.parent / "shared/benchmarks/article-extraction",
    "newspaper4k": REPO / "bench/data/cache/newspaper4k-0.9.6",
    "trafilatura-eval": REPO / "bench/data/cache/trafilatura-0.9.3",
}
SNIPPET_LABELS = REPO / "bench/data/trafilatura-eval/labels.json"


@dataclass(frozen=True)
class BenchmarkPage:
    """One labelled page: its HTML and either its full main text (truth) or snippets to keep and to drop."""

    page_id: str
    url: str
    html: str
    truth: str = ""
    keep: tuple[str, ...] = field(default=())
    drop: tuple[str, ...] = field(default=())

    def score(self, prediction: str | None) -> PageScore:
        """Shingle counts against the full text, or snippet counts where the page has snippets."""
        if self.keep or self.drop:
            return score_snippets(self.keep, self.drop, prediction)
        return score_page(self.truth, prediction)


def score_snippets(keep: tuple[str, ...], drop: tuple[str, ...], prediction: str | None) -> PageScore:
    """trafilatura's evaluation: a kept snippet found is a true positive, one missing a false negative,
    a boilerplate snippet found a false positive (substring match, whitespace collapsed on both sides)."""
    text = " ".join((prediction or "").split())
    found = [" ".join(snippet.split()) in text for snippet in keep]
    leaked = sum(" ".join(snippet.split()) in text for snippet in drop) if prediction else 0
    return PageScore(tp=sum(found), fp=leaked, fn=len(found) - sum(found), exact=False)


def load_article_extraction(directory: Path) -> list[BenchmarkPage]:
    """ground-truth.json and the gzipped HTML of every page it lists (the benchmark's README)."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, entry in sorted(truth.items()):
        with gzip.open(directory / "html" / f"{page_id}.html.gz", "rt", encoding="utf-8") as file:
            pages.append(BenchmarkPage(page_id, entry["url"], file.read(), truth=entry["articleBody"]))
    return pages


def load_newspaper4k(directory: Path) -> list[BenchmarkPage]:
    """tests/data/html/<name>.html with tests/data/txt/<name>.txt; the URL from metadata/<name>.json."""
    data = directory / "tests" / "data"
    pages = []
    for html_path in sorted((data / "html").glob("*.html")):
        text_path = data / "txt" / f"{html_path.stem}.txt"
        if not text_path.is_file():  # home pages and feeds: no article to compare with
            continue
        url = f"https://newspaper4k.invalid/{html_path.stem}"
        meta_path = data / "metadata" / f"{html_path.stem}.json"
        if meta_path.is_file():
            meta_url = str(json.loads(meta_path.read_text(encoding="utf-8")).get("url") or "")
            url = meta_url if meta_url.startswith("http") else url
        html = html_path.read_text(encoding="utf-8", errors="replace")
        truth = text_path.read_text(encoding="utf-8", errors="replace")
        pages.append(BenchmarkPage(html_path.stem, url, html, truth=truth))
    return pages


def load_trafilatura_eval(directory: Path) -> list[BenchmarkPage]:
    """tests/cache/<file> of trafilatura's source distribution, with the snippets in SNIPPET_LABELS."""
    labels = json.loads(SNIPPET_LABELS.read_text(encoding="utf-8"))
    pages = []
    for name, snippets in sorted(labels.items()):
        html = (directory / "tests" / "cache" / name).read_text(encoding="utf-8", errors="replace")
        url = f"https://{name.removesuffix('.html')}.invalid/"
        pages.append(
            BenchmarkPage(name, url, html, keep=tuple(snippets["with"]), drop=tuple(snippets["without"]))
        )
    return pages


LOADERS: dict[str, Callable[[Path], list[BenchmarkPage]]] = {
    "article-extraction": load_article_extraction,
    "newspaper4k": load_newspaper4k,
    "trafilatura-eval": load_trafilatura_eval,
}
MARKERS = {
    "article-extraction": "ground-truth.json",
    "newspaper4k": "tests/data/txt",
    "trafilatura-eval": "tests/cache",
}
