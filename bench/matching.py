"""Matching cost with 10 / 1,000 / 10,000 watch terms on a 5,000-word article, against one regex per term.

Watchlists and the article are generated from a seed (no network, no files): company, person and product
names with aliases, case-sensitive acronyms (PLA, SMIC), Chinese names, excludes ("PLA filament"), a
query per twenty watchlists and one regex term per thousand terms. The article is English news prose
that mentions some of the terms (in the headline too), near-misses (lowercase acronyms, a name inside
a longer word), an excluded phrase, curly apostrophes and a phrase broken over two lines.

The reference is the simplest correct matcher: one compiled regex per term (its phrases, longest
first, each whole-word unless CJK), one per term's excludes, run over the whole headline and body; a
query is evaluated by the query engine with every leaf scanning the texts. tests/stages/
test_match_scale.py checks that ours gives the same matches, hits and term positions.

    python bench/matching.py [--sizes 10 1000 10000] [--seed 1] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.config import TermConfig, WatchlistConfig  # noqa: E402
from monitor.models import Article, Match, TermHit  # noqa: E402
from monitor.query import ArticleText, RegexTimeout, compile_user_regex  # noqa: E402
from monitor.query.patterns import BoundedRegex  # noqa: E402
from monitor.stages.match import (  # noqa: E402
    TITLE_WEIGHT,
    CompiledWatchlist,
    CompiledWatchlists,
    compile_watchlist,
    match_article,
)
from monitor.text import Sentence, is_cjk, normalise_text, split_sentences  # noqa: E402

TERMS_PER_WATCHLIST = 20
ARTICLE_WORDS = 5000

# --- generated watchlists ---------------------------------------------------------------------------

_ONSETS = ["b", "br", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "qu", "r", "s", "t", "v", "z", "x"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ia", "eo"]
_CODAS = ["", "", "n", "r", "x", "l", "s", "th", "m"]
_SUFFIXES = ["Holdings", "Group", "Technologies", "Systems", "Capital", "Bank", "Energy", "Robotics", "Labs"]
_GIVEN = ["Li", "Wang", "Maria", "John", "Aisha", "Kenji", "Olga", "Pedro", "Fatima", "Chen", "Anna", "Ravi"]
_CJK_CHARS = (
    "阿里巴华为腾讯平头哥芯片云科技集团银行能源电子网络智能汽车半导体中芯国际小米字节跳动百度京东美团"
)
_EXCLUDE_WORDS = ["filament", "plastic", "printer", "Cup", "restaurant"]
# A regex term has no phrase to index, so each one runs over the whole article (0.45 ms for the first
# over 5,000 words) unless the article lacks one of the words every match holds ("export", "control";
# monitor.query.literals), as this one does: a watchlist file holds a few, not one per thousand terms.
REGEXES = [r"\b(?:chip|semiconductor)\s+export\s+controls?\b", r"\bXuan-?Tie\s*C9\d\d\b"]


def _word(rng: random.Random, syllables: int) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)]
    return "".join(parts).capitalize()


def _term(rng: random.Random, index: int) -> dict[str, Any]:
    """One term: a company, person, product, acronym or Chinese name; some with aliases or excludes."""
    kind = rng.random()
    if kind < 0.06:  # an acronym, written in capitals and meant only so
        acronym = "".join(rng.choice("ABCDEFGHKLMNPRSTXZ") for _ in range(rng.randint(3, 4)))
        term: dict[str, Any] = {"term": acronym, "case_sensitive": True}
        if rng.random() < 0.5:
            term["exclude"] = [f"{acronym} {rng.choice(_EXCLUDE_WORDS)}"]
        return term
    if kind < 0.11:  # a Chinese name, matched without word boundaries
        return {"term": "".join(rng.choice(_CJK_CHARS) for _ in range(rng.randint(2, 4)))}
    if kind < 0.35:  # a person
        return {"term": f"{rng.choice(_GIVEN)} {_word(rng, 2)}"}
    if kind < 0.5:  # a product
        return {"term": f"{_word(rng, 2)} {rng.choice('XSKQ')}{rng.randint(1, 99)}"}
    name = _word(rng, rng.randint(2, 3))  # a company, often with its longer name or a Chinese one
    term = {"term": name}
    aliases = []
    if rng.random() < 0.4:
        aliases.append(f"{name} {rng.choice(_SUFFIXES)}")
    if rng.random() < 0.15:
        aliases.append("".join(rng.choice(_CJK_CHARS) for _ in range(3)))
    if aliases:
        term["aliases"] = aliases
    if rng.random() < 0.03:
        term["exclude"] = [f"{name} {rng.choice(_EXCLUDE_WORDS)}"]
    return term


def generate_watchlists(terms: int, seed: int) -> list[WatchlistConfig]:
    """`terms` watch terms in watchlists of TERMS_PER_WATCHLIST; every twentieth has a query."""
    rng = random.Random(seed)
    generated = [_term(rng, i) for i in range(terms)]
    for i, pattern in zip(range(999, terms, 1000), REGEXES, strict=False):  # a few: each scans the text
        generated[i] = {"term": f"Regex{i}", "regex": pattern}
    watchlists = []
    for start in range(0, terms, TERMS_PER_WATCHLIST):
        chunk = _unique_names(generated[start : start + TERMS_PER_WATCHLIST])
        watchlist: dict[str, Any] = {"name": f"w{start // TERMS_PER_WATCHLIST}", "terms": chunk}
        if (start // TERMS_PER_WATCHLIST) % 20 == 7 and len(chunk) >= 2:
            first, second = (_query_word(t) for t in chunk[:2])
            others = " OR ".join(_query_word(t) for t in chunk[2:])
            either = f" OR ({others})" if others else ""
            watchlist["query"] = f"({first} NEAR/10 (said OR chip*)) OR ({second} -lawsuit){either}"
        if rng.random() < 0.1:
            watchlist["min_mentions"] = 2
        watchlists.append(WatchlistConfig.model_validate(watchlist))
    return watchlists


def _unique_names(terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for term in terms:
        if term["term"].casefold() not in seen:
            seen.add(term["term"].casefold())
            unique.append(term)
    return unique


def _query_word(term: dict[str, Any]) -> str:
    return f'"{term["term"]}"'


# --- generated article ------------------------------------------------------------------------------

_SUBJECTS = [
    "The company", "Analysts", "Regulators in Beijing", "Officials in Washington", "Investors",
    "The ministry", "Its chief executive", "A spokesperson", "Shareholders", "The board",
]  # fmt: skip
_VERBS = ["said", "reported", "expected", "denied", "confirmed", "warned", "announced", "estimated"]
_OBJECTS = [
    "quarterly revenue rose 12 percent", "the deal would close next year", "chip exports slowed",
    "cloud computing demand remained strong", "the U.S. market was under review",
    "e-commerce sales fell short of forecasts", "talks with suppliers had stalled",
    "the factory would add 3.5 million units", "a new data centre was planned in Hangzhou",
]  # fmt: skip


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} on Tuesday that {rng.choice(_OBJECTS)}."


def _mention(rng: random.Random, term: TermConfig) -> str:
    """A sentence mentioning the term, or one of its aliases, sometimes in a form that must not match."""
    phrase = rng.choice([term.name, *term.aliases]) if term.regex is None else "chip export controls"
    form = rng.random()
    if form < 0.1 and term.case_sensitive:
        phrase = phrase.lower()  # a case-sensitive term written in lowercase: no match
    elif form < 0.15 and not is_cjk(phrase[-1]):
        phrase = phrase + "esque"  # inside a longer word: no match
    elif form < 0.2 and term.exclude:
        phrase = term.exclude[0]  # covered by an exclude: no match
    elif form < 0.25 and " " in phrase:
        phrase = phrase.replace(" ", "\n", 1)  # broken over two lines: a match
    elif form < 0.3:
        phrase = phrase.upper()
    possessive = "\u2019s" if rng.random() < 0.2 and not is_cjk(phrase[-1]) else ""
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} that {phrase}{possessive} {rng.choice(_OBJECTS)}."


def generate_article(watchlists: Sequence[WatchlistConfig], seed: int, mentions: int = 40) -> Article:
    """About ARTICLE_WORDS words of news prose in paragraphs, mentioning `mentions` of the terms."""
    rng = random.Random(seed * 7919 + 1)
    terms = [term for watchlist in watchlists for term in watchlist.terms]
    chosen = rng.sample(terms, min(mentions, len(terms)))
    sentences: list[str] = []
    words = 0
    while words < ARTICLE_WORDS:
        sentence = (
            _mention(rng, chosen[len(sentences) % len(chosen)]) if rng.random() < 0.15 else _sentence(rng)
        )
        sentences.append(sentence)
        words += len(sentence.split())
    paragraphs = ["  ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)]
    title = (
        f"{chosen[0].name if chosen[0].regex is None else 'Chip export controls'} shares jump after earnings"
    )
    return Article(url=f"https://news.example/{seed}", title=title, text="\n\n".join(paragraphs))


# --- the reference: one regex per term --------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceTerm:
    name: str
    pattern: re.Pattern[str] | BoundedRegex
    exclude: re.Pattern[str] | None

    @classmethod
    def of(cls, term: TermConfig) -> ReferenceTerm:
        flags = 0 if term.case_sensitive else re.IGNORECASE
        if term.regex is not None:
            pattern: re.Pattern[str] | BoundedRegex = compile_user_regex(
                term.regex, case_sensitive=term.case_sensitive
            )
        else:
            pattern = _phrases_regex([term.name, *term.aliases], flags)
        return cls(term.name, pattern, _phrases_regex(term.exclude, re.IGNORECASE) if term.exclude else None)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        found = [(m.start(), m.end(), m.group()) for m in self.pattern.finditer(text) if m.end() > m.start()]
        excluded = [m.span() for m in self.exclude.finditer(text)] if self.exclude else []
        return [s for s in found if not any(a <= s[0] and s[1] <= b for a, b in excluded)]


def _phrases_regex(phrases: Sequence[str], flags: int) -> re.Pattern[str]:
    """Whole words (CJK: anywhere), any spaces between words, the longest phrase first."""
    ordered = sorted({normalise_text(p).strip() for p in phrases}, key=len, reverse=True)
    alternatives = []
    for phrase in ordered:
        before = "" if is_cjk(phrase[0]) else r"(?<!\w)"
        after = "" if is_cjk(phrase[-1]) else r"(?!\w)"
        alternatives.append(before + r"\s+".join(re.escape(w) for w in phrase.split()) + after)
    return re.compile("|".join(alternatives), flags)


@dataclass(frozen=True)
class ReferenceWatchlist:
    compiled: CompiledWatchlist  # its query, if any, and its settings
    terms: tuple[ReferenceTerm, ...]


def reference_watchlists(configs: Sequence[WatchlistConfig]) -> list[ReferenceWatchlist]:
    return [
        ReferenceWatchlist(compile_watchlist(c, "#c"), tuple(ReferenceTerm.of(t) for t in c.terms))
        for c in configs
    ]


def reference_match(article: Article, watchlists: Sequence[ReferenceWatchlist]) -> list[Match]:
    """What match_article must return, the slow and obvious way."""
    title, body = normalise_text(article.title), normalise_text(article.text)
    sentences = {True: [Sentence(0, len(title), title)], False: split_sentences(body)}
    matches = []
    for watchlist in watchlists:
        hits = _reference_hits(watchlist, title, body, sentences)
        if hits and sum(TITLE_WEIGHT if h.in_title else 1 for h in hits) >= watchlist.compiled.min_mentions:
            w = watchlist.compiled
            matches.append(Match(w.name, w.channel, tuple(hits), w.priority, w.notify_here))
    return matches


def _reference_hits(
    watchlist: ReferenceWatchlist, title: str, body: str, sentences: dict[bool, list[Sentence]]
) -> list[TermHit]:
    def hit(term: str, start: int, text: str, in_title: bool) -> TermHit:
        sentence = next((s.text for s in sentences[in_title] if s.start <= start < s.end), "")
        return TermHit(term, text, in_title, sentence)

    try:
        if watchlist.compiled.query is None:
            return [
                hit(term.name, start, text, in_title)
                for in_title, field in ((True, title), (False, body))
                for term in watchlist.terms
                for start, _, text in term.spans(field)
            ]
        result = watchlist.compiled.query.evaluate(ArticleText(title, body))  # no index: every leaf scans
        return (
            [hit(o.term, o.start, o.text, o.field == "title") for o in result.occurrences]
            if result.matched
            else []
        )
    except RegexTimeout:
        return []


# --- timing -----------------------------------------------------------------------------------------


def per_article_ms(run: Callable[[], object], repeat: int) -> float:
    """The median of `repeat` runs, in milliseconds (after one warm-up run)."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1000


def measure(size: int, seed: int, repeat: int) -> tuple[str, dict[str, object]]:
    """One row of the table: the same article and watchlists through both matchers."""
    configs = generate_watchlists(size, seed)
    article = generate_article(configs, seed)
    ours = CompiledWatchlists(compile_watchlist(c, "#c") for c in configs)
    reference = reference_watchlists(configs)
    expected = reference_match(article, reference)
    assert match_article(article, ours) == expected, f"{size} terms: not the reference's result"
    ours_ms = per_article_ms(lambda: match_article(article, ours), repeat)
    text_ms = per_article_ms(lambda: _prepare_text(article), repeat)
    reference_ms = per_article_ms(lambda: reference_match(article, reference), max(3, repeat // 10))
    matching_ratio = (reference_ms - text_ms) / max(ours_ms - text_ms, 0.01)
    line = (
        f"{size:>6} {len(configs):>10} {len(expected):>7} | {ours_ms:>8.2f} {reference_ms:>12.2f} "
        f"{reference_ms / ours_ms:>5.0f}x | {text_ms:>7.2f} | {ours_ms - text_ms:>9.2f} "
        f"{reference_ms - text_ms:>9.2f} {matching_ratio:>5.0f}x"
    )
    row = {"scenario": f"matching: {size:,} terms, 5,000-word article", "ours": round(ours_ms, 2),
           "baseline": round(reference_ms, 2), "unit": "ms/article",
           "target": "<= 2 ms at 10,000 terms" if size >= 10_000 else "",
           "note": f"text preparation alone (normalise, split all sentences) {text_ms:.2f} ms"}  # fmt: skip
    return line, row


def _prepare_text(article: Article) -> None:
    normalise_text(article.title)
    split_sentences(normalise_text(article.text))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run.py)")
    args = parser.parse_args(argv)
    print(
        f"{'terms':>6} {'watchlists':>10} {'matches':>7} | {'ours ms':>8} {'reference ms':>12} "
        f"{'ratio':>6} | {'text ms':>7} | {'ours-text':>9} {'ref-text':>9} {'ratio':>6}"
    )
    rows = []
    for size in args.sizes:
        line, row = measure(size, args.seed, args.repeat)
        print(line)
        rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(
        "ms per article (median). text: normalising the headline and body and splitting the whole body\n"
        "into sentences (monitor/text/), as the reference does; ours normalises the same but reads only\n"
        "the sentences holding hits (text.SentenceFinder): ours-text is its matching less the split saved."
    )


if __name__ == "__main__":
    main()
