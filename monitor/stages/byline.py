"""Byline, dateline and caption lines that extraction keeps around an article's text, as named patterns.

"By Jane Doe, Reuters", "Updated 12:04 UTC, 3 June 2026", "Photo: AFP / Getty Images": on about 4% of
pages they survive extraction, and their tokens (utc, 2026, getty) then count as words the article shares
with others (issue 14). A line is dropped only when the whole line is one of these shapes: names are
capitalised words, datelines hold nothing but date and time words, so an article sentence that starts
with "By" or mentions a date always has a word that does not fit (tests/stages/test_byline.py).
A wire story's lead ("WASHINGTON (Reuters) - The Fed...") is kept: it is part of the first sentence, the
benchmark's ground truth keeps it (cutting it cost F1 on 13 of its pages), and its place name is news.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NAME_WORD = r"(?:[A-Z][\w'’.-]*|[A-Z]\.|(?:de|van|von|der|da|di|le|la|bin|al)(?=\s+[A-Z]))"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}}"
_NAMES = rf"{_NAME}(?:\s*(?:,|and|&|und|et|y)\s*{_NAME}){{0,3}}"
# What follows a byline's names: the outlet or a role, in capitalised words or a few known roles.
_ROLE = (
    r"(?:staff (?:writer|reporter)s?|correspondents?|reporters?|editors?|contributors?|in [A-Z][\w ]{1,30})"
)
_BYLINE = re.compile(
    rf"(?i:by|von|par|por|written by|reporting by|words by)[:\s]\s*{_NAMES}"
    rf"(?:\s*[,|/–—-]\s*(?:{_NAMES}|(?i:{_ROLE})))*\.?"
)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
_ZONES = "utc|gmt|et|est|edt|ct|cst|cdt|pt|pst|pdt|bst|cet|cest|ist|jst|aest|aedt|hkt|sgt|z"
_NUMERIC_DATE = r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
_DATE_WORD = re.compile(rf"{_MONTHS}|{_NUMERIC_DATE}", re.IGNORECASE)
_STAMP_WORDS = re.compile(
    rf"(?:{_MONTHS}|{_DAYS}|{_ZONES}|am|pm|a\.m\.|p\.m\.|at|on|of|the|\d{{1,4}}(?:st|nd|rd|th)?"
    r"|\d{1,2}[:.h]\d{2}(?::\d{2})?|" + _NUMERIC_DATE + ")",
    re.IGNORECASE,
)
_STAMP_PREFIX = re.compile(
    r"(?:(?:last|first)\s+)?(?:updated|published|posted|modified|created|date|dated|released|"
    r"aktualisiert|veröffentlicht|publié|mis à jour|publicado|actualizado)(?:\s+(?:on|at|am))?\s*:?\s*",
    re.IGNORECASE,
)
_LONE_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[tT ][\d:.]+(?:[zZ]|[+-]\d{2}:?\d{2})?")
_STAMP_SEPARATORS = re.compile(r"[\s,|•·()–—]+|(?<!\d)[-/]|[-/](?!\d)")  # not inside 2026-06-03

_PHOTO_WORDS = r"(?:photo|photograph|photos|image|images|picture|pic|foto|fotos|illustration|video|credit)"
_CREDIT_NAMES = rf"(?:{_NAME}|via)(?:\s*(?:/|,|and|&|via|for|\|)?\s*(?:{_NAME}|via))*"
_CAPTION = re.compile(
    rf"\(?(?i:{_PHOTO_WORDS}(?:\s+credit)?\s*(?::|\||by|courtesy(?: of)?)\s*|©\s*|copyright\s+)"
    rf"{_CREDIT_NAMES}\)?\.?"
)
# A bare credit line names a photo agency after a slash or "via": "Jane Doe/Getty Images", "AFP via Getty".
_AGENCIES = r"(?:getty images|getty|afp|ap|reuters|epa|shutterstock|alamy|bloomberg|xinhua|dpa|imago|ani|pti)"
_BARE_CREDIT = re.compile(
    rf"(?:{_NAME}\s*(?:/|via)\s*)+(?i:{_AGENCIES})|(?i:{_AGENCIES})\s*(?:/|via)\s*{_NAME}"
)

MAX_LINE_CHARS = 120  # a byline or caption longer than this is a sentence, whatever its shape
# The three shapes as one regex: each line is read once, not once per shape.
_BYLINE_OR_CREDIT = re.compile(f"(?:{_BYLINE.pattern})|(?:{_CAPTION.pattern})|(?:{_BARE_CREDIT.pattern})")
_DIGIT = re.compile(r"\d")


def drop_credit_lines(lines: Sequence[str]) -> list[str]:
    """The lines without byline, dateline and photo-credit lines."""
    return [line for line in lines if not is_credit_line(line)]


def is_credit_line(line: str) -> bool:
    """True when the whole line is a byline, a dateline or timestamp, or a photo caption credit."""
    if len(line) > MAX_LINE_CHARS:
        return False
    return _BYLINE_OR_CREDIT.fullmatch(line) is not None or is_dateline(line)


def is_dateline(line: str) -> bool:
    """True for a line of nothing but a date or time, after an optional "Updated"/"Published" label."""
    if not _DIGIT.search(line):  # every date and time below has a digit: most lines end here
        return False
    prefix = _STAMP_PREFIX.match(line)
    rest = line[prefix.end() :] if prefix else line
    if _LONE_STAMP.fullmatch(rest.strip()):
        return True
    words = [word for word in _STAMP_SEPARATORS.split(rest) if word]
    if not words or not all(_STAMP_WORDS.fullmatch(word) for word in words):
        return False
    if not any(any(char.isdigit() for char in word) for word in words):
        return False
    if prefix is not None:
        return True
    # Unlabelled, the line must hold exactly one date: a time alone ("4:14 p.m.") heads an entry of a
    # live story, two dates are an event's span ("29 November 2018 | 20 January 2019"); both are kept on
    # the article-extraction benchmark's ground truth.
    return sum(_DATE_WORD.fullmatch(word) is not None for word in words) == 1
