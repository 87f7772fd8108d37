"""Summarise stage: a 2-4 sentence extractive summary that favours the lede and the matching sentences.

Extractive on purpose: every word shown in Slack was written by the outlet, so an alert never states
something the article does not say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..models import Article, Match
from ..text import Sentence, cut, normalise_text, split_sentences

MAX_SENTENCES = 4
MIN_SENTENCES = 2
# Room for four ordinary news sentences; Slack's section limit (3,000) is far above it.
MAX_SUMMARY_CHARS = 700
# Shorter "sentences" are headings, captions or datelines, not prose worth quoting.
MIN_SENTENCE_WORDS = 6
_SENTENCE_ENDINGS = (".", "!", "?", "。", "！", "？", '"', "'", ")", "”", "’")

# Lines that survive some extractions and never belong in a summary (seen in ../shared/seeds/).
_BOILERPLATE = re.compile(
    r"^(?:advertisement|also read\b|read more\b|read next\b|subscribe\b|source link|leave a reply"
    r"|your email address will not be published|please note that we are not authori[sz]ed"
    r"|the content on this page is for information purposes only"
    r"|written by\b|updated\s*\d|click here|sign up\b|follow us\b|download the\b|catch all the\b"
    r"|get latest\b|(?:\(?with inputs from\b)|copyright\b|©|all rights reserved)",
    re.IGNORECASE,
)


def summarise_article(article: Article, matches: Sequence[Match]) -> str:
    """The lede, then the sentences richest in matched terms, in reading order, within MAX_SUMMARY_CHARS."""
    sentences = _unique([s for s in split_sentences(normalise_text(article.text)) if _is_prose(s)])
    if not sentences:
        return cut(normalise_text(article.text).strip(), MAX_SUMMARY_CHARS)
    chosen = _choose(sentences, _matched_sentences(matches))
    return _join_within_limit([s.text for s in sorted(chosen, key=lambda s: s.start)])


def _is_prose(sentence: Sentence) -> bool:
    """A real sentence: long enough, ending like one (headings and captions often do not), not boilerplate."""
    words = sentence.text.split()
    return (
        len(words) >= MIN_SENTENCE_WORDS
        and sentence.text.endswith(_SENTENCE_ENDINGS)
        and not _BOILERPLATE.match(sentence.text)
    )


def _unique(sentences: list[Sentence]) -> list[Sentence]:
    """First occurrence of each sentence (captions and pull quotes repeat body text)."""
    seen: set[str] = set()
    unique = []
    for sentence in sentences:
        if sentence.text not in seen:
            seen.add(sentence.text)
            unique.append(sentence)
    return unique


def _matched_sentences(matches: Sequence[Match]) -> dict[str, int]:
    """How many term hits each matched body sentence holds."""
    counts: dict[str, int] = {}
    for match in matches:
        for hit in match.hits:
            if not hit.in_title and hit.sentence:
                counts[hit.sentence] = counts.get(hit.sentence, 0) + 1
    return counts


def _choose(sentences: list[Sentence], hit_counts: dict[str, int]) -> list[Sentence]:
    lede = sentences[0]
    chosen = [lede]
    ranked = sorted(
        (s for s in sentences[1:] if hit_counts.get(s.text)),
        key=lambda s: (-hit_counts[s.text], s.start),
    )
    chosen.extend(ranked[: MAX_SENTENCES - 1])
    for sentence in sentences[1:]:
        if len(chosen) >= MIN_SENTENCES:
            break
        if sentence not in chosen:
            chosen.append(sentence)
    return chosen


def _join_within_limit(texts: list[str]) -> str:
    summary = texts[0]
    for text in texts[1:]:
        if len(summary) + 1 + len(text) > MAX_SUMMARY_CHARS:
            break
        summary += " " + text
    return cut(summary, MAX_SUMMARY_CHARS)
