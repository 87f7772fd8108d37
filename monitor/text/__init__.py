"""Text helpers shared by several stages: Unicode normalisation, sentences, HTML to text."""

from __future__ import annotations

import bisect
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, CData, MarkupResemblesLocatorWarning, NavigableString, PageElement, Tag

from ..libxml import one_parse_at_a_time

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


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace and
# an opening capital, digit or quote; or at a CJK full stop; or at a line break; but not at a full
# stop that ends one of these abbreviations (a whole word).
_ABBREVIATIONS = (
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "Inc", "Ltd", "Co", "Corp", "No", "vs",
    "U.S", "U.K", "e.g", "i.e",
)  # fmt: skip


def _after_abbreviation(then: str) -> str:
    """A regex true just after an abbreviation, its full stop and `then` (lookbehinds have one width)."""
    by_length: dict[int, list[str]] = {}
    for word in _ABBREVIATIONS:
        by_length.setdefault(len(word), []).append(re.escape(word))
    return "|".join(rf"(?<=(?<!\w)(?:{'|'.join(words)})\.{then})" for words in by_length.values())


# One pass finds every boundary. The pattern starts with the one character each kind of boundary
# starts with, so the regex engine skips to candidates instead of trying each alternative at every
# position. A boundary after an abbreviation still matches, as the same text, with no named group (its
# whitespace must not end another sentence); the named groups say where the sentence ends: after the
# closing quotes, after the CJK stop, or before the line break. Looking behind by a fixed width keeps
# "Dr. Dr. Dr. ..." linear (a hostile page once froze a quadratic version for minutes).
_CLOSING = r"""["'”’)\]]*"""
_NEXT_OPENS = r"""(?=["'“‘(\[]?[A-Z0-9])"""
_SENTENCE_END = re.compile(
    r"[.!?\n。！？](?:"
    rf"(?<=\.)(?:{_after_abbreviation('')}){_CLOSING}\s+{_NEXT_OPENS}"
    rf"|(?<=[.!?])(?P<closed>{_CLOSING})\s+{_NEXT_OPENS}"
    r"|(?<=[。！？])(?P<cjk>)"
    rf"|(?<=\.\n)(?:{_after_abbreviation(chr(10))})\n*"
    r"|(?<=\n)(?P<line>)\n*"
    r")"
)


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their offsets in `text`."""
    sentences: list[Sentence] = []
    append = sentences.append
    start = 0
    for end, next_start in _boundaries(text, 0):
        # _append_sentence inlined, with a shortcut for the usual sentence that has no space to strip
        # (strip() returns the string itself then): a fifth of the time for a 5,000-word article.
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped is chunk and chunk:
            append(Sentence(start, end, chunk))
        elif stripped:
            offset = start + chunk.index(stripped)
            append(Sentence(offset, offset + len(stripped), stripped))
        start = next_start
    _append_sentence(sentences, text, start, len(text))
    return sentences


def _boundaries(text: str, position: int) -> Iterator[tuple[int, int]]:
    """For each sentence boundary from `position` on: where the sentence before it ends, and where the
    text after it resumes. `position` must not be inside a boundary (see _may_be_in_boundary)."""
    for boundary in _SENTENCE_END.finditer(text, position):  # lookbehinds still see before `position`
        kind = boundary.lastgroup
        if kind is not None:  # None: after an abbreviation, not a boundary
            yield (boundary.start() if kind == "line" else boundary.end(kind)), boundary.end()


def _append_sentence(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        offset = start + chunk.index(stripped)
        sentences.append(Sentence(offset, offset + len(stripped), stripped))


def sentence_holding(sentences: list[Sentence], offset: int) -> str:
    """The text of the sentence holding `offset`, or "" (binary search: an article has hundreds)."""
    index = bisect.bisect_right(sentences, offset, key=_start) - 1
    if index >= 0 and offset < sentences[index].end:
        return sentences[index].text
    return ""


def _start(sentence: Sentence) -> int:
    return sentence.start


# The characters _SENTENCE_END can match (everything else it only looks at): a scan for boundaries that
# starts at any other character finds the same boundaries after it as a scan from the start of the text.
_BOUNDARY_PUNCTUATION = frozenset(".!?\n\u3002\uff01\uff1f\"'\u201d\u2019)]")


def _may_be_in_boundary(char: str) -> bool:
    return char in _BOUNDARY_PUNCTUATION or char.isspace()


class SentenceFinder:
    """The sentence of split_sentences(text) that holds an offset, found by reading only around it.

    Matching needs the sentences of a few dozen hits, not all of an article's hundreds: splitting a
    5,000-word article took 0.5 ms, a third of matching it against 10,000 terms (bench/matching.py).
    Each lookup scans back a little from the offset to the boundary that starts its sentence, widening
    the window until one is found, and forward to the boundary that ends it. When the lookups have read
    READ_BUDGET times the text (many hits, or sentences thousands of characters long), it splits the
    whole text once instead, so an article never costs much more than a full split.
    """

    READ_BUDGET = 2
    # Characters before the offset in the first window, widened fourfold until a boundary is in it. A
    # news sentence is about 100 characters; for the 57 hits of the 10,000-term benchmark, 64 took
    # 0.14 ms, 32 and 96 0.16 ms, 256 0.24 ms.
    FIRST_WINDOW = 64

    def __init__(self, text: str):
        self.text = text
        self._budget = self.READ_BUDGET * len(text)
        self._sentences: list[Sentence] | None = None

    def sentence_at(self, offset: int) -> str:
        """What sentence_holding(split_sentences(text), offset) returns."""
        if self._sentences is None:
            found = self._read_around(offset)
            if found is not None:
                return found
            self._sentences = split_sentences(self.text)
        return sentence_holding(self._sentences, offset)

    def _read_around(self, offset: int) -> str | None:
        """The sentence holding `offset`, from a scan of windows around it; None when over budget."""
        text, window = self.text, self.FIRST_WINDOW
        last = min(offset, len(text) - 1)  # the last character the scan may start at
        while self._budget > 0:
            begin = max(0, offset - window)
            while 0 < begin <= last and _may_be_in_boundary(text[begin]):
                begin += 1  # the scan must not start inside a boundary (the start of the text is not)
            window *= 4
            if begin > last and begin > 0:
                continue
            start = 0 if begin == 0 else None  # where the sentence holding `offset` starts, once known
            reached = len(text)
            for end, next_start in _boundaries(text, begin):
                if next_start <= offset:
                    start = next_start
                    continue
                reached = next_start
                if start is not None:
                    self._budget -= reached - begin
                    return _stripped_sentence_at(text, start, end, offset)
                break
            else:
                if start is not None:
                    self._budget -= reached - begin
                    return _stripped_sentence_at(text, start, len(text), offset)
            self._budget -= reached - begin  # no boundary before `offset` in the window: widen it
        return None


def _stripped_sentence_at(text: str, start: int, end: int, offset: int) -> str:
    """The sentence split_sentences makes of text[start:end] if it holds `offset`, else ""."""
    chunk = text[start:end]
    stripped = chunk.strip()
    first = start + chunk.find(stripped) if stripped else end
    return stripped if first <= offset < first + len(stripped) else ""


_BLOCK_TAGS = ["p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article"]
_SKIPPED_TAGS = frozenset({"script", "style", "iframe", "noscript"})
# The strings get_text() keeps: not comments, doctypes, or the contents of <script>, <style>, <template>.
_TEXT_STRINGS = (NavigableString, CData)


@one_parse_at_a_time
def html_to_text(html: str, *, max_chars: int = 100_000) -> str:
    """Plain text of an HTML fragment (a feed's summary), block elements on their own lines."""
    if "<" not in html and "&" not in html:
        return cut_normalised(html.strip(), max_chars)
    with warnings.catch_warnings():
        # A summary that is a bare URL makes bs4 warn; it is still valid text for us.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(_cut_html(html, max_chars * 4), "lxml")
    text = "".join(_text_pieces(soup))
    lines = (_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return cut_normalised("\n".join(line for line in lines if line), max_chars)


def _cut_html(html: str, limit: int) -> str:
    """The first `limit` characters of the HTML, less a tag cut in two (its "</di" would read as text)."""
    if len(html) <= limit:
        return html
    html = html[:limit]
    last_tag = html.rfind("<")
    return html[:last_tag] if last_tag > html.rfind(">") else html


def _text_pieces(soup: BeautifulSoup) -> Iterator[str]:
    """The visible strings in document order, with a line break for <br> and after each block element.

    One pass, with a stack instead of recursion, so its cost is linear in the size of the HTML however
    deep it nests. (Appending "\n" to every block, as this did before, costs time in proportion to the
    block's depth: 20 s for a summary of 20,000 nested <div>s, minutes for 100,000.)
    """
    stack: list[tuple[Tag, Iterator[PageElement]]] = [(soup, iter(soup.contents))]
    while stack:
        tag, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if tag.name in _BLOCK_TAGS:
                yield "\n"
        elif isinstance(child, Tag):
            if child.name == "br":
                yield "\n"
            elif child.name not in _SKIPPED_TAGS:
                stack.append((child, iter(child.contents)))
        elif type(child) in _TEXT_STRINGS:
            yield str(child)


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
