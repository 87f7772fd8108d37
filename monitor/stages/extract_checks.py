"""Checks on a text trafilatura's fast pass returned: is it plausibly the page's article?

The extract stage reads a page first without trafilatura's fallback extractors (a third of the time) and
used to keep that text whenever it was 500 characters or longer. On table-layout pages (one <td> per
menu entry, the article in another cell) that pass can return the navigation table, or a wrong block
that happens to be long enough (issue 14: 32 of the 40 held-out pages where we lost to plain
trafilatura). These checks send such a text to the full extraction instead.

A text is refused when most of it is link text (menu cells, lists of headlines) or when the page's
head names its article (og:title, <title>, description) and the text shares none of its words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

# Lines that are wholly the text of one of the page's links: more than this share of the text's
# characters and the text is a menu or a list of links, not an article. A real article quotes a few
# linked names or headlines on their own line; on the article-extraction benchmark no accepted
# fast-pass text had more than 0.3 of its characters in such lines.
MAX_LINK_LINE_SHARE = 0.5
# Head words shared with the text: the head must name at least this many distinct words of 4+ letters
# for the check to apply (a head titled "Home" or "News" says nothing about the article).
MIN_HEAD_WORDS = 3
# The head's words are looked for in the start of the text only: a menu that ends in a teaser for
# this very article would otherwise pass.
HEAD_WINDOW_CHARS = 2_000

# Words of 4+ letters in scripts that separate words with spaces (below U+0E00: Latin, Greek, Cyrillic,
# Hebrew, Arabic, Indic...). Thai, Chinese and Japanese run words together, so no word can be matched:
# the check does not apply to them.
_WORD = re.compile(r"[^\W\d_\u0e00-\U0010ffff]{4,}")


def is_plausible_article(text: str, tree: HtmlElement, head_texts: Iterable[str]) -> bool:
    """True unless the text is mostly link text, or shares no word with the head's own description."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return False
    if link_line_share(lines, tree) > MAX_LINK_LINE_SHARE:
        return False
    return agrees_with_head(text[:HEAD_WINDOW_CHARS], head_texts)


def link_line_share(lines: list[str], tree: HtmlElement) -> float:
    """The share of the lines' characters that are in lines equal to the text of one of the page's links."""
    anchors = {" ".join(anchor.text_content().split()) for anchor in tree.iter("a")}
    anchors.discard("")
    total = sum(len(line) for line in lines)
    in_links = sum(len(line) for line in lines if " ".join(line.split()) in anchors)
    return in_links / total if total else 0.0


def agrees_with_head(text: str, head_texts: Iterable[str]) -> bool:
    """True when the head names too few words to judge, or when one of its words is in the text."""
    words = head_words(head_texts)
    if len(words) < MIN_HEAD_WORDS:
        return True
    found = {word.casefold() for word in _WORD.findall(text)}
    return not words.isdisjoint(found)


def head_words(head_texts: Iterable[str]) -> set[str]:
    """Distinct words of 4+ letters in the head's titles and description."""
    return {word.casefold() for head_text in head_texts for word in _WORD.findall(head_text)}


# Chinese, Japanese and Korean say in one character what takes about three in a Latin script: without
# this weight a complete 235-character Japanese article counts as "short" and the balanced retry
# swaps it for the page's menus (newspaper4k's nikkei.com page: F1 0.941 -> 0.525).
WIDE_CHAR_WEIGHT = 3
_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def text_size(text: str) -> int:
    """The text's length in Latin-script characters: a CJK character counts as WIDE_CHAR_WEIGHT."""
    return len(text) + (WIDE_CHAR_WEIGHT - 1) * len(_WIDE.findall(text))
