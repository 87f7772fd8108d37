"""Splitting a query into tokens: words, "phrases", operators, parentheses, field prefixes.

Operators are written in capitals (AND, OR, NOT, NEAR/n) so that lowercase "and" is refused rather
than searched as a word; quotes make any text a phrase. A `-` is NOT only at the start of a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..text import normalise_text
from .syntax import QuerySyntaxError

TokenKind = Literal["(", ")", "word", "phrase", "prefix", "and", "or", "not", "minus", "near", "field", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # as written: the phrase without its quotes, the prefix without its *
    offset: int
    distance: int = 0  # for NEAR/n

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind == "end":
            return "the end of the query"
        if self.kind == "phrase":
            return f'"{self.text}"'
        if self.kind == "prefix":
            return f"'{self.text}*'"
        if self.kind in ("word", "(", ")", "minus", "field"):
            return f"'{self.text}'"
        return self.text


FIELDS = ("title", "text")
# What analysts paste from documents: normalise_text folds these to " and - in the articles too.
_QUOTES = '"“”„‟″＂'
_DASHES = "-‐‑‒–—−﹣－"
_OPERATORS: dict[str, TokenKind] = {"AND": "and", "OR": "or", "NOT": "not"}
_NEAR = re.compile(r"NEAR/(\d+)")
_FIELD = re.compile(r"([A-Za-z]+):")
_WORD_END = re.compile(rf"[\s(){_QUOTES}]")
_MIN_PREFIX_CHARS = 2  # "c*" would match a good part of any article


def tokenize(source: str) -> list[Token]:
    """The tokens of `source`, ending with an "end" token; QuerySyntaxError says what is malformed."""
    tokens: list[Token] = []
    offset = _skip_spaces(source, 0)
    while offset < len(source):
        token, offset = _next_token(source, offset)
        tokens.append(token)
        offset = _skip_spaces(source, offset)
    tokens.append(Token("end", "", len(source.rstrip())))  # right after the last character written
    return tokens


def _skip_spaces(source: str, offset: int) -> int:
    while offset < len(source) and source[offset].isspace():
        offset += 1
    return offset


def _next_token(source: str, offset: int) -> tuple[Token, int]:
    char = source[offset]
    if char in "()":
        return Token("(" if char == "(" else ")", char, offset), offset + 1
    if char in _QUOTES:
        return _phrase(source, offset)
    if char in _DASHES:
        return _minus(source, offset)
    end = _word_end(source, offset)
    field = _FIELD.match(source, offset, end)
    if field:
        return _field(source, offset, field.group(1)), field.end()
    return _word(source, offset, end), end


def _word_end(source: str, offset: int) -> int:
    found = _WORD_END.search(source, offset)
    return found.start() if found else len(source)


def _phrase(source: str, offset: int) -> tuple[Token, int]:
    close = next((i for i in range(offset + 1, len(source)) if source[i] in _QUOTES), -1)
    if close < 0:
        raise QuerySyntaxError(source, offset, 'a closing " for the phrase that starts here', "none")
    text = source[offset + 1 : close]
    if not re.search(r"\w", normalise_text(text)):
        found = "an empty phrase" if not text.strip() else f'"{text}", which has no letters or digits'
        raise QuerySyntaxError(source, offset, "words inside the quotes", found)
    return Token("phrase", text, offset), close + 1


def _minus(source: str, offset: int) -> tuple[Token, int]:
    following = source[offset + 1 : offset + 2]
    if not following or following.isspace() or following == ")":
        raise QuerySyntaxError(
            source, offset, "a term right after '-', with no space (-PLA excludes PLA)", f"'{source[offset]}'"
        )
    return Token("minus", source[offset], offset), offset + 1


def _field(source: str, offset: int, name: str) -> Token:
    if name.lower() not in FIELDS:
        raise QuerySyntaxError(
            source, offset, 'title: or text: (put a word with a colon in quotes: "Note:")', f"'{name}:'"
        )
    return Token("field", name.lower() + ":", offset)


def _word(source: str, offset: int, end: int) -> Token:
    text = source[offset:end]
    if text in _OPERATORS:
        return Token(_OPERATORS[text], text, offset)
    near = _NEAR.fullmatch(text)
    if near:
        return Token("near", text, offset, distance=int(near.group(1)))
    _refuse_misspelt_operator(source, offset, text)
    if "*" in text:
        return _prefix(source, offset, text)
    if not re.search(r"\w", normalise_text(text)):
        raise QuerySyntaxError(source, offset, "a term, phrase or '('", f"'{text}'")
    return Token("word", text, offset)


def _refuse_misspelt_operator(source: str, offset: int, text: str) -> None:
    # "PLA and Taiwan" would otherwise search for the word "and" in every article.
    upper = text.upper()
    if upper in _OPERATORS:
        raise QuerySyntaxError(source, offset, f'{upper} in capitals, or "{text}" in quotes', f"'{text}'")
    if upper == "NEAR" or upper.startswith("NEAR/"):
        expected = 'NEAR/ and a number of words, e.g. NEAR/5 (or "near" in quotes to search the word)'
        raise QuerySyntaxError(source, offset, expected, f"'{text}'")


def _prefix(source: str, offset: int, text: str) -> Token:
    stem = text[:-1]
    if "*" in stem or not text.endswith("*"):
        star = offset + text.index("*")
        raise QuerySyntaxError(source, star, "* only at the end of a word (chip*)", f"'{text}'")
    if len(re.findall(r"\w", normalise_text(stem))) < _MIN_PREFIX_CHARS:
        expected = f"at least {_MIN_PREFIX_CHARS} letters before *"
        raise QuerySyntaxError(source, offset, expected, f"'{text}'")
    return Token("prefix", stem, offset)
