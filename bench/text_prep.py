"""normalise_text and split_sentences (monitor/text/) against verbatim copies of their slow versions.

Every stage that reads an article first normalises it, and matching and summarising split it into
sentences, so these two run on every article fetched. The inputs: the 5,000-word article that
bench/matching.py generates, the golden extraction pages (tests/fixtures/pages/*.expected.txt), the
stories corpus (tests/fixtures/stories/corpus.jsonl), and hostile text built from a seed (mixed
scripts, lookalike quotes and dashes, zero-width and bidi controls, odd whitespace, CJK, emoji).
Each output is checked against the reference's before it is timed; tests/test_text_equivalence.py
checks the same on randomised strings.

    python bench/text_prep.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.matching import generate_article, generate_watchlists  # noqa: E402
from monitor.text import Sentence, normalise_text, split_sentences  # noqa: E402

# --- the reference: monitor/text.py as of 37ffd28, verbatim -------------------------------------------

# Characters that look alike to a reader but not to a regex. NFKC already folds full-width forms
# and most spaces; these are the ones it leaves (or turns into U+2010).
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'),
        **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),
    }
)
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")


def reference_normalise_text(text: str) -> str:
    """NFKC, lookalike quotes/hyphens folded to ASCII, invisible characters dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_LOOKALIKES)
    return _HORIZONTAL_SPACE.sub(" ", text)


# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace and
# an opening capital, digit or quote; or at a CJK full stop; or at a line break.
_SENTENCE_END = re.compile(r"""(?<=[.!?])(["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9])|(?<=[。！？])|\n+""")
# Abbreviations that end in a full stop without ending the sentence.
_LONGEST_ABBREVIATION = 8  # "Prof." and "U.S." with the word boundary before them
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Inc|Ltd|Co|Corp|No|vs|U\.S|U\.K|e\.g|i\.e)\.$")


def reference_split_sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets in `text`."""
    sentences: list[Sentence] = []
    start = 0
    for boundary in _SENTENCE_END.finditer(text):
        end = boundary.start() + len(boundary.group(1) or "")
        # Only the few characters before the full stop can be an abbreviation; looking at the whole
        # sentence so far made "Dr. Dr. Dr. ..." quadratic (a hostile page froze the loop for minutes).
        if _ABBREVIATIONS.search(
            text[max(start, boundary.start() - _LONGEST_ABBREVIATION) : boundary.start()]
        ):
            continue
        _append_sentence(sentences, text, start, end)
        start = boundary.end()
    _append_sentence(sentences, text, start, len(text))
    return sentences


def _append_sentence(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        offset = start + chunk.index(stripped)
        sentences.append(Sentence(offset, offset + len(stripped), stripped))


# --- inputs -----------------------------------------------------------------------------------------

FIXTURES = REPO / "tests" / "fixtures"

# What pasted and scraped text carries: lookalike quotes and dashes (every one normalise_text folds),
# zero-width and bidi controls, odd whitespace, full-width forms, combining marks, CJK, RTL, emoji.
HOSTILE_WORDS = [
    "Alibaba", "U.S.", "Dr.", "e.g.", "Prof.", "3.5", "PLA", "Xuan\u2010Tie", "C\u2014910",
    "\u201cquoted\u201d", "\u2018single\u2019", "it\u2019s", "\u201ehoch\u201c", "\u2033", "\u2032",
    "\uff02full\uff02", "\uff07x\uff07", "\uff0d", "\ufe58", "\ufe63", "\u2212", "\u2011", "\u2015",
    "soft\u00adhyphen", "zero\u200bwidth", "zw\u200cnj", "zw\u200dj", "word\u2060joiner", "\ufeffbom",
    "\u200e", "\u200f", "\u202a\u202b\u202c\u202d\u202e", "\u2066\u2067\u2068\u2069", "\u061c",
    "阿里巴巴", "华为。", "腾讯！", "平头哥？", "半导体", "カタカナ", "한국어", "\uff21\uff22\uff23",
    "\uff11\uff12", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u05e2\u05d1\u05e8\u05d9\u05ea",
    "e\u0301", "n\u0303", "\u1e9b\u0323", "\u212b", "\ufb01", "\u2460", "\u00bd", "😀", "👍🏽",
    "\U0001f1e8\U0001f1f3", "Ⅻ", "ﬀ", "ℌ",
]  # fmt: skip
HOSTILE_GAPS = [
    " ", " ", " ", "  ", ". ", ".  ", "! ", "? ", ".\n", "\n\n", ".\u201d ", ".) ", "\t", "\r\n",
    "\u00a0", "\u2002", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000", "\u1680", "\u2028", "\u2029",
    "\x0b", "\x0c", "\x1c", "\x85", " \u200b ", "\u3000\u3000", ". \n ", "。", "。\n",
]  # fmt: skip


def hostile_text(seed: int, words: int = 5000) -> str:
    """`words` words of hostile text, generated from `seed`."""
    rng = random.Random(seed)
    parts = []
    for _ in range(words):
        parts.append(rng.choice(HOSTILE_WORDS) if rng.random() < 0.5 else rng.choice(["the", "Chip", "said"]))
        parts.append(rng.choice(HOSTILE_GAPS))
    return "".join(parts)


def news_article() -> str:
    """The 5,000-word article bench/matching.py matches against (1,000 terms, seed 1)."""
    return generate_article(generate_watchlists(1000, 1), 1).text


def fixture_pages() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "pages").glob("*.expected.txt"))]


def corpus_texts() -> list[str]:
    lines = (FIXTURES / "stories" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return [text for record in records for text in (record["title"], record["text"])]


def inputs() -> dict[str, list[str]]:
    """The input classes, by name: each a list of texts timed together."""
    article = news_article()
    return {
        "news article (5,000 words)": [article],
        "same article, ASCII only": [article.encode("ascii", "ignore").decode()],
        "fixture pages (3)": fixture_pages(),
        "stories corpus (67 titles+texts)": corpus_texts(),
        "hostile (5,000 words)": [hostile_text(1)],
    }


# --- timing -----------------------------------------------------------------------------------------


def per_call_ms(run: Callable[[str], object], texts: Sequence[str], repeat: int) -> float:
    """The median over `repeat` rounds of the time per text, in milliseconds (after a warm-up round)."""
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        for text in texts:
            run(text)
        times.append((time.perf_counter() - start) / len(texts))
    return sorted(times[1:])[repeat // 2] * 1000


def measure(name: str, texts: Sequence[str], repeat: int) -> str:
    """One row: both functions, ours and the reference's, on the same texts (checked equal first)."""
    normalised = [reference_normalise_text(text) for text in texts]
    assert [normalise_text(t) for t in texts] == normalised, f"{name}: normalise_text differs"
    assert [split_sentences(t) for t in normalised] == [reference_split_sentences(t) for t in normalised], (
        f"{name}: split_sentences differs"
    )
    cells = []
    for ours, reference, arguments in (
        (normalise_text, reference_normalise_text, texts),
        (split_sentences, reference_split_sentences, normalised),
    ):
        ours_ms = per_call_ms(ours, arguments, repeat)
        reference_ms = per_call_ms(reference, arguments, repeat)
        cells.append(f"{reference_ms:>9.3f} {ours_ms:>8.3f} {reference_ms / ours_ms:>5.1f}x")
    chars = sum(map(len, texts)) // len(texts)
    return f"{name:<33} {chars:>7} | {cells[0]} | {cells[1]}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"{'':<33} {'':>7} | {'normalise_text':^24} | {'split_sentences':^24}")
    columns = f"{'reference':>9} {'ours':>8} {'ratio':>6}"
    print(f"{'input':<33} {'chars':>7} | {columns} | {columns}")
    for name, texts in inputs().items():
        print(measure(name, texts, args.repeat))
    print("ms per call (median of --repeat rounds); split_sentences is given the normalised text.")


if __name__ == "__main__":
    main()
