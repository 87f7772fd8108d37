"""The words a `regex:` term requires (monitor.query.literals): never one that a match could lack."""

from __future__ import annotations

import random
import string
import sys

import pytest
import regex

from monitor.query.anchors import fold
from monitor.query.literals import required_words
from monitor.query.patterns import compile_user_regex
from monitor.text import normalise_text


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (r"\b(?:chip|semiconductor)\s+export\s+controls?\b", ("export", "control")),
        (r"\bXuan-?Tie\s*C9\d\d\b", ("xuan", "tie", "c9")),
        (r"(?:abc)+x", ("abc", "x")),
        (r"(?i)Foo", ("foo",)),
        (r"ab(?-i:cD)ef", ("ab", "cd", "ef")),
        (r"über\s+Alles", ("ber", "alles")),  # only ASCII letters and digits
        (r"(?:export)?control|tariff", ()),  # no word is in every alternative
        (r"(?=export)\w+", ()),  # a lookahead's words are not part of the match
        (r"x(?:abc)*", ("x",)),
        (r"(?:export){e<=1}", ()),  # `regex`'s fuzzy matching: "expert" matches
        (r"(?x) export \s control", ()),  # inline flags other than (?i)
        (r"(?f)strasse", ()),  # `regex`'s full case folding: "straße" matches
        (r"\p{Lu}export", ()),  # syntax only `regex` reads
        (r"[[a]bc", ()),  # a possible nested set
    ],
)
def test_required_words(source: str, words: tuple[str, ...]) -> None:
    assert required_words(source) == words


def test_what_regex_equates_with_an_ascii_letter_or_digit_folds_to_it() -> None:
    # The prefilter looks for lowercase ASCII words in fold(text): any character `regex` matches to
    # one of those, ignoring case, must fold to it, or a match could be skipped.
    ascii_alnum = string.ascii_lowercase + string.digits
    any_of_them = regex.compile(f"[{ascii_alnum}]", regex.IGNORECASE)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if any_of_them.fullmatch(char):
            folded = fold(char)
            assert folded is not None and folded in ascii_alnum, hex(code)
            assert regex.fullmatch(folded, char, regex.IGNORECASE), hex(code)
        for variant in {normalise_text(char)} - {char}:  # what the text holds after normalising
            if variant and any_of_them.search(variant):
                assert all(fold(c) in ascii_alnum for c in variant if any_of_them.fullmatch(c)), hex(code)


PATTERNS = [
    r"\b(?:chip|semiconductor)\s+export\s+controls?\b",
    r"\bXuan-?Tie\s*C9\d\d\b",
    r"T-?Head\b",
    r"(?i)K\w+n\b",
    r"ab+c(?:de)+f",
    r"s[a-z]*s\b",
]
ALPHABET = [
    "a", "b", "c", "d", "e", "f", "k", "K", "s", "S", "\u017f", "\u212a", "\u0131", "\u0130",
    " ", "\n", "-", "T", "Head", "head", "chip", " export ", "control", "C9", "9", "xuan", "Tie",
]  # fmt: skip


def test_a_regex_never_matches_a_text_that_lacks_its_required_words() -> None:
    rng = random.Random(6)
    compiled = [
        (compile_user_regex(source, case_sensitive=False), required_words(source)) for source in PATTERNS
    ]
    checked = 0
    for _ in range(20000):
        text = normalise_text("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 30))))
        folded = fold(text)
        assert folded is not None
        for pattern, words in compiled:
            if pattern.compiled.search(text):
                checked += 1
                assert all(word in folded for word in words), (pattern.source, text)
    assert checked > 100
