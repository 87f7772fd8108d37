"""The fast path: fastfeedparser, and the checks that it reads a feed as feedparser does (feed_parse.py)."""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fastfeedparser
from feedparser.datetimes import _parse_date as feedparser_date

from ..libxml import one_parse_at_a_time
from .parsed_feed import FASTFEEDPARSER, ParsedEntry, ParsedFeed
from .xml_guard import read_prolog, root_element_start

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([\w.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""")
_UTF8 = frozenset({b"utf-8", b"utf8"})
# feedparser's test for "this title is HTML" (_looks_like_html): a closing tag or an entity reference.
# A title with either, or with any `<`, is left to feedparser.
_MAY_BE_HTML = re.compile(r"<|&#?\w+;")
_ABSOLUTE_LINK = re.compile(r"https?://[^\s]+\Z", re.I)
# A title with a type (Atom `type="html"`, base64 `mode`) or with child elements: feedparser decodes or
# serialises it, fastfeedparser keeps only its first text.
_TITLE_NOT_TEXT = re.compile(
    rb"""<(?:[\w-]+:)?title\b[^>]*?\b(?:type|mode)\s*=\s*["'](?!text["']|text/plain["'])"""
    rb"""|<(?:[\w-]+:)?title\b[^>]*>[^<]*<(?!/|!\[CDATA\[)"""
)
_ROOT_PEEK_BYTES = 64 * 1024
_ELEMENT_NAME = re.compile(r"<([\w:.-]+)")
_PREFIXED_TITLE = re.compile(rb"<[\w-]+:title\b")
# An SGML declaration in summary HTML (`<!ENTITY`, `<!DOCTYPE`; comments are fine): feedparser's HTML
# processor escapes it as text, which html_to_text would otherwise drop.
_DECLARATION_IN_HTML = re.compile(r"<!(?!--)")
# Where feedparser finds a summary for an entry without one of its own: content (Atom <content>, RSS
# <content:encoded>) or another namespace's description (media:description, itunes:summary).
_OTHER_SUMMARIES = re.compile(rb"<(?:[\w-]+:)?(?:content|encoded)\b|<[\w-]+:(?:description|summary)\b")
_OTHER_DESCRIPTIONS = re.compile(rb"<[\w-]+:(?:description|summary)\b")
# A <link> (or atom:link) with a rel other than alternate and its URL as element text, not in href
# (`<link rel="enclosure">https://…/ep1.mp3</link>`): feedparser may take that text as the entry's
# link, fastfeedparser ignores it; which of the two is the item's link is left to feedparser.
_REL_LINK_WITH_TEXT = re.compile(
    rb"""<(?:[\w-]+:)?link\b[^>]*?\brel\s*=\s*["'](?!alternate["'])[^"']*["'][^>]*(?<!/)>\s*[^<\s]"""
)
# An entry's date as element text. fastfeedparser reads dates feedparser cannot ("Tue,19 Feb 2019 …"
# without its space, "Sun, 15 Feb 2015 00:00:00" without a zone: it takes UTC), where feedparser gives
# the entry no date; any date not in a common form is therefore shown to feedparser's own date parser.
_DATE_TEXT = re.compile(
    rb"<(?:[\w-]+:)?(?:pubDate|published|updated|issued|modified|created|date)\b[^>]*>([^<]*)</"
)
_COMMON_DATE = re.compile(
    r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d (?:[+-]\d{4}|GMT|UTC?|Z|[ECMP][SD]T)"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
)
# The media types feedparser takes an alternate link as the entry's link for (its html_types, and the
# short Atom names it maps to them); a PDF or audio alternate is not the link there, but is in fastfeedparser.
_HTML_LINK_TYPES = frozenset({None, "", "text/html", "application/xhtml+xml", "html", "xhtml"})
# The namespaces whose elements fastfeedparser and feedparser read alike (the corpus test shows it).
# Another namespace may hold an element whose local name clashes with a core one (`x:description`
# before `description`), or be RSS itself in a namespace (userland's rss2), which fastfeedparser misreads.
_KNOWN_NAMESPACES = frozenset(
    {
        "http://www.w3.org/2005/Atom",
        "http://purl.org/rss/1.0/",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://purl.org/rss/1.0/modules/content/",
        "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/terms/",
        "http://search.yahoo.com/mrss/",
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
        "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
        "http://search.yahoo.com/mrss",
        "http://purl.org/atom/ns#",
        "http://purl.org/rss/1.0/modules/slash/",
        "http://wellformedweb.org/CommentAPI/",
        "http://purl.org/rss/1.0/modules/syndication/",
        "http://www.georss.org/georss",
        "http://www.w3.org/2003/01/geo/wgs84_pos#",
        "http://www.w3.org/1999/xhtml",
        "http://rssnamespace.org/feedburner/ext/1.0",
    }
)


@one_parse_at_a_time
def read_with_fastfeedparser(body: bytes, headers: dict[str, str]) -> ParsedFeed | str:
    """The feed as fastfeedparser reads it, or why feedparser must read it instead."""
    reason = _refused_before_parsing(body, headers.get("content-type", ""))
    if reason:
        return reason
    try:
        # include_content=False: its description then is the feed's own summary element, never one
        # fastfeedparser made from the content (feedparser's summary is the element too).
        parsed = fastfeedparser.parse(body, include_content=False, include_tags=False, include_media=False)
        entries = parsed.get("entries") or []
        if _OTHER_SUMMARIES.search(body) and not all(entry.get("description") for entry in entries):
            # feedparser then uses the entry's content, as does fastfeedparser with include_content.
            _use_content_as_summary(
                entries, fastfeedparser.parse(body, include_tags=False, include_media=False)
            )
    except Exception as error:  # any complaint: feedparser decides what the feed is
        return f"fastfeedparser failed: {type(error).__name__}"
    clues = _Clues(
        root=_root_name(body),
        is_perma_link=b"isPermaLink" in body,
        has_link_element=b"<link" in body,
        other_descriptions=bool(_OTHER_DESCRIPTIONS.search(body)),
    )
    read = [_fast_entry(entry, clues) for entry in entries]
    refused = next((reason for reason in read if isinstance(reason, str)), None)
    if refused:
        return refused
    if not read:
        return "no entries"
    title = parsed.get("feed", {}).get("title") or ""
    if _MAY_BE_HTML.search(title) or _double_encoded(title):
        return "feed title may be HTML or encoded twice"
    return ParsedFeed(title, False, tuple(read), None, FASTFEEDPARSER)  # type: ignore[arg-type]


def _use_content_as_summary(entries: list[dict[str, Any]], with_content: Any) -> None:
    """Give entries without a description their first content, from a parse that kept content."""
    others = with_content.get("entries") or []
    if len(others) != len(entries):
        raise ValueError("the two parses found different entries")
    for entry, other in zip(entries, others, strict=True):
        if not entry.get("description"):
            contents = other.get("content") or []
            entry["description"] = contents[0].get("value", "") if contents else ""


def _refused_before_parsing(body: bytes, content_type: str) -> str | None:
    media_type = content_type.split(";")[0].strip().lower()
    charset = _CHARSET.search(content_type.encode("latin-1", "replace"))
    if charset and charset.group(1).lower() not in _UTF8:
        return "HTTP charset is not UTF-8"
    declared = _XML_ENCODING.match(body[:200])
    if declared and declared.group(1).lower() not in _UTF8:
        return "XML declaration names an encoding other than UTF-8"
    if media_type.startswith("text/") and not body.isascii():
        return "text/* media type with non-ASCII bytes"
    if "<!DOCTYPE" in (read_prolog(body, "utf-8") or ""):
        return "DOCTYPE"
    if _TITLE_NOT_TEXT.search(body):
        return "a title with a type or child elements"
    if _PREFIXED_TITLE.search(body):
        return "a title in another namespace"  # fastfeedparser may take media:title over <title>
    if _REL_LINK_WITH_TEXT.search(body):
        return "a link element with a rel and its URL as text"
    if any(_unreadable_by_feedparser(date) for date in _DATE_TEXT.findall(body)):
        return "a date feedparser cannot read"
    return _not_well_formed(body)


def _unreadable_by_feedparser(date: bytes) -> bool:
    text = date.decode("utf-8", "replace").strip()
    return bool(text) and not _COMMON_DATE.fullmatch(text) and feedparser_date(text) is None


def _root_name(body: bytes) -> str:
    text = body[:_ROOT_PEEK_BYTES].decode("utf-8", "replace")
    found = _ELEMENT_NAME.match(text, root_element_start(text))
    return found.group(1).rpartition(":")[2] if found else ""


def _not_well_formed(body: bytes) -> str | None:
    """Why expat (feedparser's strict parser, with namespaces) refuses the body; None if it reads it."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    namespaces: set[str] = set()
    parser.StartNamespaceDeclHandler = lambda _prefix, uri: namespaces.add(uri or "")
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError as error:
        return f"not well-formed ({xml.parsers.expat.errors.messages[error.code]})"
    except (LookupError, ValueError) as error:  # an encoding expat does not know
        return f"not readable by expat ({type(error).__name__})"
    unknown = namespaces - _KNOWN_NAMESPACES
    return f"namespace {min(unknown)}" if unknown else None


@dataclass(frozen=True)
class _Clues:
    """What the body shows about where feedparser may take an entry's link or summary from."""

    root: str  # the root element's local name: rss, feed (Atom), RDF (RSS 1.0)
    is_perma_link: bool  # a <guid isPermaLink=…>: feedparser makes a link of the guid only when not "false"
    has_link_element: bool  # feedparser may find an entry's link in a nested element (category/image)
    other_descriptions: bool  # media:description, itunes:summary…: feedparser's summary when none is given


def _fast_entry(entry: dict[str, Any], clues: _Clues) -> ParsedEntry | str:
    link = (entry.get("link") or "").strip()
    if not link:
        link = _link_from_id(entry, clues)
        if link is None:
            return "an entry without a link"  # feedparser may find one elsewhere (a nested <link>)
    elif clues.root == "feed" and not entry.get("links"):
        return "an Atom link that is not rel=alternate"  # fastfeedparser lists only alternate links
    if link and not _ABSOLUTE_LINK.match(link):
        return "a relative link"
    links = entry.get("links") or ()
    alternates = [item.get("href") for item in links if item.get("rel") in (None, "alternate")]
    if entry.get("links") and link not in alternates:
        return "a link that is not rel=alternate"  # feedparser's link is only the alternate one
    if any(item.get("href") == link and item.get("type") not in _HTML_LINK_TYPES for item in links):
        return "an alternate link that is not HTML"  # feedparser's link is an HTML alternate only
    if clues.is_perma_link and link == entry.get("id"):
        return "a link that may be a guid with isPermaLink"
    title = entry.get("title") or ""
    if _MAY_BE_HTML.search(title):
        return "title may be HTML"
    summary = entry.get("description") or ""
    if not summary and clues.other_descriptions:
        return "an entry without a summary, in a feed with other descriptions"
    if _DECLARATION_IN_HTML.search(summary):
        return "a declaration in a summary"
    if any(_double_encoded(entry.get(key) or "") for key in ("id", "link", "title", "description")):
        return "text that reads as UTF-8 encoded twice"  # feedparser undoes that; fastfeedparser does not
    published = _fast_date(entry)
    if isinstance(published, str):
        return published
    return ParsedEntry(
        id=entry.get("id") or "",
        link=link,
        title=title,
        title_is_html=False,
        summary=summary,
        published=published,
    )


def _double_encoded(text: str) -> bool:
    """Whether feedparser would read the text as UTF-8 bytes that were decoded as Latin-1 (and repair it)."""
    if text.isascii():
        return False
    try:
        text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


def _link_from_id(entry: dict[str, Any], clues: _Clues) -> str | None:
    """The link feedparser gives an entry that has none of its own; None when that cannot be told."""
    if entry.get("links") or clues.is_perma_link:
        return None
    if clues.root == "RDF":
        return ""  # rdf:about is the item's id, never its link
    if entry.get("id"):
        return str(entry["id"]).strip()  # a guid (or Atom id) is taken as the link
    return None if clues.has_link_element else ""


def _fast_date(entry: dict[str, Any]) -> datetime | str | None:
    for key in ("published", "updated", "created"):
        value = entry.get(key)
        if value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return f"unreadable {key} date"
            if moment.tzinfo is None:
                return f"{key} date without a time zone"
            return moment.astimezone(UTC).replace(microsecond=0)  # feedparser keeps whole seconds
    return None
