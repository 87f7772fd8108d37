"""Every text cap holds after Unicode normalisation, whatever the text: NFKC expands some characters up
to 18 times (U+FDFA), and the watchlists, the story profile and the near-copy signature all read the
normalised text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from monitor.models import Page
from monitor.stages.extract import MAX_TEXT_CHARS, extract_article
from monitor.text import MAX_NORMALISED_CHARS, cut, cut_normalised, html_to_text, normalise_text

# Characters NFKC makes longer (U+FDFA: 18 characters), shorter (a base and its accent) or leaves.
EXPANDING = ["\ufdfa", "\ufdfb", "\u3300", "\ufb03", "\u2474", "\u00bd", "\u0390", "\u1100\u1161", "e\u0301"]
TEXT = st.lists(st.one_of(st.sampled_from(EXPANDING), st.characters()), max_size=80).map("".join)
CAPS = st.integers(min_value=0, max_value=200)


def nfkc_length(text: str) -> int:
    return len(unicodedata.normalize("NFKC", text))


@given(text=TEXT, cap=CAPS)
def test_normalised_text_never_passes_its_cap(text: str, cap: int) -> None:
    assert len(normalise_text(text, cap)) <= cap


@given(text=TEXT, cap=CAPS)
def test_a_cut_is_the_longest_prefix_whose_normalised_form_fits(text: str, cap: int) -> None:
    kept = cut_normalised(text, cap)
    assert text.startswith(kept)
    assert nfkc_length(kept) <= cap
    if nfkc_length(text[:cap]) <= cap:
        assert kept == text[:cap]


@given(text=TEXT, cap=CAPS, html=st.booleans())
def test_a_summary_is_capped_after_normalisation(text: str, cap: int, html: bool) -> None:
    summary = f"<p>{text}</p>" if html else text
    assert nfkc_length(html_to_text(summary, max_chars=cap)) <= cap


@given(text=TEXT, limit=st.integers(min_value=4, max_value=200))
def test_a_shortened_title_is_within_its_limit_once_normalised(text: str, limit: int) -> None:
    assert nfkc_length(cut(text, limit)) <= limit


def test_an_article_of_expanding_characters_is_capped_after_normalisation() -> None:
    # 250,000 x U+FDFA: main kept 200,000 of them, 3.6 million characters for every stage that normalises.
    paragraphs = "".join(f"<p>{chr(0xFDFA) * 2_500} number {n}.</p>" for n in range(100))
    page = Page(url="https://x.example/a", html=f"<html><body><article>{paragraphs}</article></body></html>")
    text = extract_article(page).text
    assert text and MAX_TEXT_CHARS == MAX_NORMALISED_CHARS
    assert nfkc_length(text) <= MAX_TEXT_CHARS
    assert len(normalise_text(text)) > MAX_TEXT_CHARS * 0.9  # cut at a paragraph, not far short of the cap
