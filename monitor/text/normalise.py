"""Unicode normalisation, and caps that hold once text is normalised."""

from __future__ import annotations

import re
import unicodedata

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
# Every character str.isspace() (and so the regex \s) accepts, less " " and "\n".
_OTHER_SPACES = (
    "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# normalise_text replaces each of these it finds, one str.replace per character present, instead of
# str.translate over every character: 0.18 ms instead of 2.6 ms for a 5,000-word article
# (bench/text_prep.py). Characters NFKC never outputs (U+00A0, U+FF0D, ...) are left out; the outputs
# are ASCII and none is a key, so the order of the replacements does not matter.
_REPLACEMENTS = tuple(
    (char, replacement)
    for char, replacement in [
        *((chr(code), str(folded)) for code, folded in _LOOKALIKES.items()),
        *((space, " ") for space in _OTHER_SPACES),
    ]
    if unicodedata.normalize("NFKC", char) == char
)
_ASCII_REPLACEMENTS = tuple(pair for pair in _REPLACEMENTS if pair[0].isascii())

# Hostile input: NFKC expands some characters up to 18 times (U+FDFA becomes 18 characters), so a cap
# counted before normalisation lets 200,000 characters become 3.6 million in every stage that normalises
# (six such pages took `once` to 1 GB). Every cap here holds after normalisation: normalise_text never
# returns more than MAX_NORMALISED_CHARS characters, and cut_normalised gives the longest prefix whose
# normalised form fits a cap. 200,000 is extract.MAX_TEXT_CHARS, the longest article text kept.
MAX_NORMALISED_CHARS = 200_000
# NFKC expands a character to at most 18 (U+FDFA); the most any text of n characters can become.
_MAX_NFKC_GROWTH = 18

# CJK scripts are written without spaces between words, so terms in them match without word boundaries.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def normalise_text(text: str, max_chars: int = MAX_NORMALISED_CHARS) -> str:
    """NFKC, lookalike quotes/hyphens folded to ASCII, invisible characters dropped, spaces collapsed;
    at most `max_chars` characters (what follows is dropped, however much NFKC expanded the text)."""
    text = unicodedata.normalize("NFKC", text[:max_chars])[:max_chars]
    for char, replacement in _ASCII_REPLACEMENTS if text.isascii() else _REPLACEMENTS:
        if char in text:
            text = text.replace(char, replacement)
    # Every run of horizontal whitespace is spaces now; halving each run until none is left is a
    # few memchr-speed passes (one for the double spaces between sentences), where the regex
    # [^\S\n]+ looked up every character's category.
    while "  " in text:
        text = " ".join(text.split("  "))
    return text


def cut_normalised(text: str, max_chars: int) -> str:
    """The longest prefix of `text` whose NFKC form has at most `max_chars` characters.

    Most text is not longer for being normalised, and costs one check; text that expands is walked a
    character at a time (the sum of each character's NFKC length bounds the whole's: composition only
    joins characters), then checked whole.
    """
    text = text[:max_chars]
    if fits_normalised(text, max_chars):
        return text
    total = 0
    for index, char in enumerate(text):
        total += len(unicodedata.normalize("NFKC", char))
        if total > max_chars:
            text = text[:index]
            break
    while not fits_normalised(text, max_chars):  # never seen; here so the bound rests on no proof
        text = text[: len(text) * 9 // 10]
    return text


def fits_normalised(text: str, max_chars: int) -> bool:
    """Is `text` at most `max_chars` characters long, also once NFKC-normalised?"""
    if len(text) > max_chars:
        return False
    if len(text) * _MAX_NFKC_GROWTH <= max_chars or unicodedata.is_normalized("NFKC", text):
        return True  # (ASCII text is normalised: the usual case costs one scan in C)
    return len(unicodedata.normalize("NFKC", text)) <= max_chars


def is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten `text` to at most `limit` characters (also once normalised), at a word boundary if near."""
    if fits_normalised(text, limit):
        return text
    room = limit - len(unicodedata.normalize("NFKC", ellipsis))  # "…" is "..." once normalised
    head = cut_normalised(text, room)
    space = head.rfind(" ")
    if space > room * 0.7:
        head = head[:space]
    return head.rstrip() + ellipsis
