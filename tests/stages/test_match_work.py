"""Matching does work linear in the article: excludes are checked in one pass (issue 12, class 3).

Work is counted as the lines of our code that run (tests/support/work.py), never timed.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.config import TermConfig
from monitor.models import Article
from monitor.query.patterns import Span, outside
from monitor.stages.match import CompiledWatchlist, compile_term, match_article
from tests.support.work import count_lines

# The shipped watchlist's PLA term (config/watchlists.yaml).
PLA = CompiledWatchlist(
    name="alibaba-military",
    channel="#china-tech",
    terms=(
        compile_term(
            TermConfig(
                term="PLA",
                case_sensitive=True,
                aliases=["People's Liberation Army"],
                exclude=["PLA filament", "PLA plastic"],
            )
        ),
    ),
)


def work_to_match(repeats: int) -> int:
    text = "The PLA said. PLA filament is cheap. " * repeats
    article = Article(url="https://x.example/a", title="t", text=text)
    hits: list[int] = []
    work = count_lines(lambda: hits.extend(len(m.hits) for m in match_article(article, [PLA])))
    assert hits == [repeats]  # the excluded half is not counted, the rest is
    return work


def test_excluded_occurrences_cost_work_linear_in_their_number() -> None:
    # Quadratic (each occurrence compared with every exclude) makes twice the text cost four times
    # the work; linear, twice. 1,000 of each is enough to tell them apart by far.
    small, large = work_to_match(500), work_to_match(1000)
    assert large < 2.5 * small, (small, large)


spans = st.lists(
    st.tuples(st.integers(0, 60), st.integers(1, 15)).map(lambda p: Span(p[0], p[0] + p[1], "x")),
    max_size=12,
)


@given(spans, spans)
def test_outside_keeps_exactly_the_spans_no_cover_contains(found: list[Span], covers: list[Span]) -> None:
    found.sort(key=lambda span: span.start)
    expected = [s for s in found if not any(c.start <= s.start and s.end <= c.end for c in covers)]
    assert outside(found, covers) == expected
