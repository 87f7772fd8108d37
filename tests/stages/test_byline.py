"""Byline, dateline and caption lines are dropped; article sentences that look a little like them are kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.stages.byline import drop_credit_lines, is_credit_line

FIRST = st.sampled_from(["Jane", "John", "Li", "María", "Oluwaseun", "Anne-Marie", "J.", "Sean"])
LAST = st.sampled_from(["Doe", "Smith", "Wei", "García", "O'Neill", "van Dijk", "Müller", "Ng"])
NAME = st.builds(lambda first, last: f"{first} {last}", FIRST, LAST)
OUTLET = st.sampled_from(
    ["Reuters", "AP", "Bloomberg", "The Guardian", "Staff Writer", "BBC News", "in Hong Kong"]
)
BY = st.sampled_from(["By", "by", "BY", "Von", "Written by", "Reporting by", "By:"])
SEP = st.sampled_from([", ", " | ", " - ", " / ", " — "])
MONTH = st.sampled_from(["June", "Jun", "JUNE", "Dec.", "September", "Sept"])
DAY = st.integers(1, 28)
YEAR = st.integers(1995, 2035)
TIME = st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
ZONE = st.sampled_from(["UTC", "GMT", "ET", "BST", "", "PM ET", "a.m. EDT"])
LABEL = st.sampled_from(
    ["Updated", "Published:", "Published", "Last updated on", "Posted on", "Updated:", ""]
)
DATE = st.one_of(
    st.builds(lambda d, m, y: f"{d} {m} {y}", DAY, MONTH, YEAR),
    st.builds(lambda d, m, y: f"{m} {d}, {y}", DAY, MONTH, YEAR),
    st.builds(lambda d, m, y: f"{y}-{m:02d}-{d:02d}", DAY, st.integers(1, 12), YEAR),
)
WHO = st.sampled_from(
    ["AFP", "Getty Images", "Reuters", "Jane Doe/Getty Images", "AFP / Getty Images", "EPA"]
)
PHOTO = st.sampled_from(["Photo:", "Photograph:", "Image:", "Image credit:", "Foto:", "Photo by", "Picture:"])


@given(BY, st.lists(NAME, min_size=1, max_size=3), st.none() | st.tuples(SEP, OUTLET))
def test_a_byline_is_dropped_whatever_its_spelling(
    by: str, names: list[str], outlet: tuple[str, str] | None
) -> None:
    line = f"{by} {' and '.join(names)}" + ("".join(outlet) if outlet else "")
    assert is_credit_line(line), line


@given(LABEL, DATE, st.none() | st.tuples(TIME, ZONE), st.booleans())
def test_a_dateline_is_dropped_whatever_its_spelling(
    label: str, date: str, time: tuple[str, str] | None, time_first: bool
) -> None:
    clock = f"{time[0]} {time[1]}".strip() if time else ""
    stamp = f"{clock}, {date}" if clock and time_first else f"{date} {clock}".strip()
    line = f"{label} {stamp}".strip()
    assert is_credit_line(line), line


@given(PHOTO, WHO, st.booleans())
def test_a_photo_credit_is_dropped_whatever_its_spelling(photo: str, who: str, parenthesised: bool) -> None:
    line = f"{photo} {who}"
    line = f"({line})" if parenthesised else line
    assert is_credit_line(line), line


SENTENCE_START = st.sampled_from(
    [
        "By the end of",
        "By contrast,",
        "By Monday, Apple had",
        "By 2030 the plant will",
        "By then the court",
        "Published in",
        "Updated figures from",
        "Photo: the rescue took",
        "Image quality on the",
        "Posted on the wall,",
    ]
)
WORDS = st.lists(
    st.sampled_from(["the", "shares", "rose", "said", "officials", "in", "after", "talks", "of"]),
    min_size=2,
    max_size=12,
)


@given(SENTENCE_START, WORDS, st.none() | DATE)
def test_an_article_sentence_that_starts_like_a_byline_or_holds_a_date_is_kept(
    start: str, words: list[str], date: str | None
) -> None:
    sentence = f"{start} {' '.join(words)}" + (f" on {date}" if date else "") + "."
    assert not is_credit_line(sentence), sentence
    assert drop_credit_lines([sentence]) == [sentence]


@given(DATE, WORDS)
def test_a_sentence_that_mentions_a_date_is_kept(date: str, words: list[str]) -> None:
    sentence = f"The company said on {date} that {' '.join(words)}."
    assert not is_credit_line(sentence), sentence


def test_the_lines_around_an_article_are_dropped_and_its_paragraphs_kept() -> None:
    lines = [
        "By Jane Doe, Reuters",
        "Updated 12:04 UTC, 3 June 2026",
        "Alibaba denied the report on Tuesday, calling it a malicious PR operation.",
        "Photo: AFP / Getty Images",
        "By then, its shares had fallen 4% in Hong Kong.",
        "4:14 p.m.",
        "2026",
    ]
    assert drop_credit_lines(lines) == [lines[2], lines[4], lines[5], lines[6]]


def test_extraction_drops_them_from_the_article_text() -> None:
    from monitor.stages.extract import tidy_text

    raw = (
        "By Jane Doe, Reuters\nUpdated 12:04 UTC, 3 June 2026\nPhoto: AFP / Getty Images\nAlibaba denied it."
    )
    assert tidy_text(raw, "Alibaba denies report") == "Alibaba denied it."
