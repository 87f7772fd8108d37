"""normalise_text and split_sentences give exactly what their slow reference versions gave.

The references are the verbatim copies in bench/text_prep.py. The inputs: the benchmark's news article,
the golden pages, the stories corpus, hostile text, and random strings drawn from the code points that
matter to either function.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata

import pytest

from bench.text_prep import (
    _LOOKALIKES,
    corpus_texts,
    fixture_pages,
    hostile_text,
    news_article,
    reference_normalise_text,
    reference_split_sentences,
)
from monitor import text as text_module
from monitor.text import SentenceFinder, normalise_text, sentence_holding, split_sentences

ALL_SPACES = "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())
# Every code point either function treats specially, and their neighbours in meaning.
POOL = [
    *(chr(code) for code in _LOOKALIKES),  # every character normalise_text folds or drops
    *ALL_SPACES,  # every Unicode whitespace character
    "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
    "\u2069", "\u061c", "\u180e", "\u2061", "\u2062", "\u2063", "\u2064",  # bidi and invisible controls
    "\u0301", "\u0303", "\u0323", "\u0308", "\u20dd", "\u3099",  # combining marks
    "\uff21", "\uff41", "\uff10", "\uff0e", "\uff01", "\uff1f", "\uff08", "\uff09", "\uff3b",  # full-width
    "\u3002", "\u300c", "\u300d", "\u4e2d", "\u534e", "\u304b", "\u30ab", "\ud55c", "\uf900",  # CJK
    "\u05d0", "\u0627", "\u0660",  # RTL letters, an Arabic digit
    "\U0001f600", "\U0001f44d", "\U0001f3fd", "\U0001f1e8", "\U0001f1f3", "\U0001d400", "\u212b",
    "\ufb01", "\u2460", "\u00bd", "\u1e9b", "\u00e9", "_", "\x00",  # emoji, compatibility forms
    ".", "!", "?", '"', "'", ")", "]", "(", "[", "-", ",",  # sentence punctuation
    "a", "e", "g", "i", "x", "A", "M", "S", "U", "K", "Z", "0", "9",
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "Inc", "Ltd", "Co", "Corp", "No", "vs",
    "U.S", "U.K", "e.g", "i.e", "i.e.g", "Mr.", "xMr.", "Dr. ", "U.S.\n", "Co.\u201d ", ". ", ".  ",
    ".\n", "\n\n", " \n ", "\u3002\n", "  ", "   ",
]  # fmt: skip


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(POOL) for _ in range(rng.randint(0, 80)))


SEEDS = range(10000)


def test_the_spaces_normalise_text_replaces_are_every_unicode_space():
    assert set(text_module._OTHER_SPACES) == set(ALL_SPACES) - {" ", "\n"}
    assert all(re.fullmatch(r"\s", char) for char in ALL_SPACES)  # what the reference's [^\S\n] takes


@pytest.mark.parametrize(
    "name", ["article", "ascii article", "pages", "corpus", "hostile 1", "hostile 2", "hostile 3"]
)
def test_same_output_on_realistic_and_hostile_text(name: str):
    texts = {
        "article": lambda: [news_article()],
        "ascii article": lambda: [news_article().encode("ascii", "ignore").decode()],
        "pages": fixture_pages,
        "corpus": corpus_texts,
        "hostile 1": lambda: [hostile_text(1)],
        "hostile 2": lambda: [hostile_text(2, words=2000)],
        "hostile 3": lambda: [hostile_text(3, words=2000)],
    }[name]()
    assert texts
    for text in texts:
        normalised = reference_normalise_text(text)
        assert normalise_text(text) == normalised
        assert split_sentences(normalised) == reference_split_sentences(normalised)
        assert split_sentences(text) == reference_split_sentences(text)


def test_same_normalised_text_on_random_strings():
    for seed in SEEDS:
        text = random_text(seed)
        assert normalise_text(text) == reference_normalise_text(text), f"seed {seed}: {text!r}"


def test_same_sentences_on_random_strings():
    for seed in SEEDS:
        text = random_text(seed)
        for variant in (text, reference_normalise_text(text), unicodedata.normalize("NFD", text)):
            assert split_sentences(variant) == reference_split_sentences(variant), f"seed {seed}: {variant!r}"


def test_long_runs_and_repeated_abbreviations():
    for text in (
        "a" + " " * 1000 + "b\t \u3000\u2028 c",
        "Dr. " * 2000 + "Smith said.",
        ". " * 1000 + "\n" * 1000 + "\u3002" * 500,
        "\u201c\u2019\u200b" * 3000,
    ):
        assert normalise_text(text) == reference_normalise_text(text)
        assert split_sentences(text) == reference_split_sentences(text)


def assert_finder_agrees(text: str, finder: SentenceFinder | None = None) -> None:
    """At every offset, SentenceFinder gives the sentence that split_sentences has there."""
    sentences = split_sentences(text)
    finder = finder or SentenceFinder(text)
    for offset in range(len(text) + 1):
        assert finder.sentence_at(offset) == sentence_holding(sentences, offset), (offset, text)


def narrow_finder(text: str) -> SentenceFinder:
    """A finder whose first window is one character, so that short texts test scans that start mid-text."""
    finder = SentenceFinder(text)
    finder.FIRST_WINDOW = 1
    finder._budget = 10**9
    return finder


def test_sentence_finder_agrees_with_split_sentences_on_random_strings():
    for seed in range(3000):
        text = random_text(seed)
        for variant in (text, reference_normalise_text(text)):
            assert_finder_agrees(variant)
            assert_finder_agrees(variant, narrow_finder(variant))


def test_sentence_finder_agrees_on_realistic_and_hostile_text():
    for text in (normalise_text(news_article()), hostile_text(1, words=600), *fixture_pages()):
        assert_finder_agrees(text)
        assert_finder_agrees(text, narrow_finder(text))


def test_sentence_finder_reads_around_each_offset_until_its_budget_is_spent():
    text = normalise_text(news_article())
    sentences = split_sentences(text)
    finder = SentenceFinder(text)
    for offset in range(0, len(text), 997):  # a few dozen hits: read around each, no full split
        assert finder.sentence_at(offset) == sentence_holding(sentences, offset)
    assert finder._sentences is None
    assert_finder_agrees(text, finder)  # thousands: the budget runs out, and it splits the text once
    assert finder._sentences == sentences


def test_sentence_finder_on_long_sentences_and_abbreviations():
    for text in (
        "a" * 5000 + ". B" + "c" * 3000,
        "Dr. " * 800 + "Smith said. Then " + "Mr.\n" * 300 + "Jones left.",
        ". " * 500 + "\n" * 500 + "\u3002" * 200 + "End.",
        "x\n\n" * 400,
    ):
        assert_finder_agrees(text)
