"""Extract stage: a fetched Page becomes an Article (main text and metadata), or ExtractionError says why not.

Generic extraction is trafilatura, with options chosen on the article-extraction benchmark
(bench/extraction.py). The page's title, date, site name and canonical URL come from its <head> and,
where the head names none, from trafilatura's metadata search (page_metadata.py). BeautifulSoup applies
a per-site SiteRule where generic extraction fails on a site. Lines of boilerplate that survive
extraction are dropped last (patterns in boilerplate.py), so site rules and generic extraction are
cleaned the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString, Script, Stylesheet, TemplateString
from lxml.html import HtmlElement
from soupsieve import SelectorSyntaxError
from trafilatura.settings import Document

from ..errors import ExtractionError
from ..libxml import one_parse_at_a_time
from ..models import Article, Page, SiteRule
from ..text import MAX_NORMALISED_CHARS, cut_normalised
from .boilerplate import drop_boilerplate
from .byline import drop_credit_lines
from .extract_checks import is_plausible_article, text_size
from .page_metadata import (
    DATE_OPTIONS,
    HeadMetadata,
    parse_timestamp,
    read_head_metadata,
    search_metadata,
    tidy_line,
)

# Hostile input: a feed can link to anything, and lxml and trafilatura work in memory, in time
# that grows with the input. 5 M characters is ~30x the benchmark's mean page (173 k characters;
# its largest is 1.5 M), so no real article is cut. The text is stored and scanned by every
# watchlist, so it is capped too: 200 k characters is ~4x the benchmark's longest article. The text cap
# holds after Unicode normalisation (monitor/text/): 200 k characters of U+FDFA are 3.6 M once matched.
MAX_HTML_CHARS = 5_000_000
MAX_TEXT_CHARS = MAX_NORMALISED_CHARS
# trafilatura spends ~45 us per element, so a page of nothing but tags costs minutes within
# MAX_HTML_CHARS (measured: 400,000 unclosed <a> took 22 s and 700 MB; 50,000 take 2.2 s). The
# benchmark's largest page has 3,229 tags; past MAX_HTML_TAGS the page is cut, as past MAX_HTML_CHARS.
# Deep nesting needs no guard of its own: libxml2 stops reading a page where it nests deeper than
# 256 (the benchmark's deepest is 50), so such a page yields what came before or nothing.
# 50,000 was still too many (issue 12: 8 s a page): 20,000 is 6x the benchmark's largest page, and
# a fast trafilatura pass over 20,000 tags of any shape tried took 0.3-0.7 s.
MAX_HTML_TAGS = 20_000
# trafilatura's fallback extractors are not linear: jusText looks for each short paragraph's
# neighbours paragraph by paragraph, 4 s for 5,000 <div><p>x y z</p></div> and 60 s for 12,500
# (issue 12). They exist for pages where the main pass finds little, which on the benchmark are
# ordinary pages; past 5,000 tags (1.5x the benchmark's largest, 3,229) a page gets the fast passes only.
FALLBACK_MAX_TAGS = 5_000

# Measured on the article-extraction benchmark (181 pages; mean P / R / F1 of trafilatura alone):
#   defaults, comments off      0.942 / 0.978 / 0.960
#   favor_precision             0.958 / 0.971 / 0.964   <- used, with the retry below
#   favor_recall                0.941 / 0.979 / 0.959
#   fast (no fallback)          0.946 / 0.979 / 0.962
#   favor_precision + fast      0.947 / 0.946 / 0.946
#   include_tables=False        0.942 / 0.972 / 0.957   (tables stay in: some articles are tables)
#   deduplicate, cache per page 0.958 / 0.965 / 0.961
# With the retries below (fast first, the fallback extractors only when that finds little), the title
# and boilerplate filters, extract_article scores 0.968 / 0.976 / 0.972 at 21 ms per page, against
# 0.964 / 0.976 / 0.970 at 26 ms with the fallbacks always on (python bench/extraction.py;
# tests/test_extraction_gate.py pins it).
# Comments stay out: readers' comments are not the article and must not trigger watchlists.
# deduplicate stays off: it costs recall even per page, and its default cache is process-wide, so
# in a long-running service a paragraph seen on earlier pages (or the same article fetched twice)
# would silently vanish.
_TEXT_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
}

# favor_precision now and then keeps a single stray block (on a Barron's page, the reprints notice
# instead of the story). When its text is shorter than this, the balanced settings run as well
# (trafilatura itself then retries with favor_recall if little of the page is covered) and the
# longer text wins. 500 was the best of 200/500/1000/1500/2000 on the benchmark:
# F1 0.964 -> 0.968, with 4 of the 181 pages extracted twice. No retry when precision finds
# nothing at all: that is a page without an article (a home page, a list of headlines), where
# the balanced settings return its menus (tests/fixtures/pages/no-article.html).
_SHORT_TEXT_CHARS = 500

# Bodies that reach us labelled as HTML but are not: PDF, JSON, zip/Office, PNG, GIF, JPEG.
_NON_HTML_START = re.compile("%PDF-|[{\\[]|PK\x03\x04|\x89PNG|GIF8|\xff\xd8\xff")
_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|main)[\s>/]", re.I)
_HTML_ROOT = re.compile(r"<html[\s>]", re.I)
_NOT_BLANK = re.compile("[^\ufeff \t\r\n]")
# Strings BeautifulSoup keeps that are not visible text: comments, CDATA, doctype (all
# PreformattedString) and the contents of <script>, <style> and <template>.
_NOT_TEXT_STRINGS = (PreformattedString, Script, Stylesheet, TemplateString)
_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "main", "ol", "p", "pre", "section", "table"}
    | {"td", "th", "tr", "ul"}
)


@one_parse_at_a_time
def extract_article(page: Page, site_rules: Sequence[SiteRule] = (), *, authors: bool = True) -> Article:
    """Extract a page's main text and metadata; raise ExtractionError saying why when it has none.

    `authors=False` (the pipeline, which never shows them) skips trafilatura's search for authors,
    categories, tags and licence, and searches only for what the page's <head> does not name among title,
    publication time and site: the same title, date and site name, in a fifth of the time (page_metadata.py).
    """
    html = check_html(page)
    tree = load_tree(html, page.url)
    head = read_head_metadata(html, tree, page.url)  # before a site rule's selectors could remove any
    rule = find_site_rule(page.url, site_rules)
    rule_text = ""
    if rule:
        html, rule_text = apply_site_rule(html, rule, page.url)
        if rule.remove:  # the rule's selectors changed the page: trafilatura reads what is left
            tree = load_tree(html, page.url)
    metadata = read_metadata(tree, page.url, head, authors=authors)
    title = head.title or tidy_line(metadata.title or "")
    fallbacks = html.count("<") <= FALLBACK_MAX_TAGS
    head_texts = [text for text in (head.title, head.page_title, head.description) if text]
    text = tidy_text(rule_text, title) or tidy_text(
        extract_main_text(tree, page.url, fallbacks, head_texts), title
    )
    if not text:
        raise ExtractionError(page.url, "no article text found")
    return build_article(page, title, text, head, metadata)


def read_metadata(tree: HtmlElement, page_url: str, head: HeadMetadata, *, authors: bool) -> Document:
    """trafilatura's metadata: its full search when the authors are wanted, else only what the head lacks."""
    if authors:
        return trafilatura.extract_metadata(tree, default_url=page_url, date_config=dict(DATE_OPTIONS))
    return Document() if head.is_complete else search_metadata(tree, page_url, head)


def check_html(page: Page) -> str:
    """Return the page's HTML, capped in size and tags; raise ExtractionError when it is empty or not HTML."""
    html = cut_after_tags(page.html[:MAX_HTML_CHARS], MAX_HTML_TAGS)
    if not html.strip():
        raise ExtractionError(page.url, "empty page")
    if not looks_like_html(html):
        raise ExtractionError(page.url, "not HTML")
    return html


def cut_after_tags(html: str, max_tags: int) -> str:
    """The HTML before its (max_tags + 1)-th `<`: every tag has one (and the odd script a few more)."""
    if html.count("<") <= max_tags:
        return html
    position = -1
    for _ in range(max_tags + 1):
        position = html.find("<", position + 1)
    return html[:position]


def looks_like_html(html: str) -> bool:
    """True unless the text is a binary file, JSON, a non-HTML XML document or plain text."""
    first = _NOT_BLANK.search(html)  # html.lstrip() would copy the whole page to read its start
    at = first.start() if first else len(html)
    start = html[at : at + 1024]
    if "\x00" in start or _NON_HTML_START.match(start):
        return False
    if start.startswith("<?xml"):  # XHTML has an <html> root; an RSS/Atom feed or other XML has not
        return _HTML_ROOT.search(html, 0, 4096) is not None
    return _HTML_TAG.search(html) is not None


def load_tree(html: str, page_url: str) -> HtmlElement:
    """Parse the HTML for trafilatura, which rejects a bare fragment unless it is wrapped in a body."""
    tree = trafilatura.load_html(html)
    if tree is None:
        tree = trafilatura.load_html(f"<html><body>{html}</body></html>")
    if tree is None:
        raise ExtractionError(page_url, "not HTML")
    return tree


def find_site_rule(url: str, site_rules: Sequence[SiteRule]) -> SiteRule | None:
    """The rule for the page's host or a parent domain of it; the most specific domain wins."""
    host = urlsplit(url).hostname or ""
    matching = [rule for rule in site_rules if host_in_domain(host, rule.domain)]
    return max(matching, key=lambda rule: len(rule.domain), default=None)


def host_in_domain(host: str, domain: str) -> bool:
    """True when host is the domain or one of its subdomains ("www.livemint.com" in "livemint.com")."""
    domain = domain.lower().strip(".")
    return host == domain or host.endswith("." + domain)


def apply_site_rule(html: str, rule: SiteRule, page_url: str) -> tuple[str, str]:
    """Drop the rule's boilerplate; return the HTML left and the text of its content selector, if any."""
    if not rule.remove and not rule.content:
        return html, ""
    soup = BeautifulSoup(html, "lxml")
    try:
        remove_selected(soup, rule.remove)
        content = select_text(soup, rule.content) if rule.content else ""
    except SelectorSyntaxError as error:
        raise ExtractionError(page_url, f"site rule for {rule.domain}: bad CSS selector: {error}") from error
    return (str(soup) if rule.remove else html), content


def remove_selected(soup: BeautifulSoup, selectors: Iterable[str]) -> None:
    """Remove every element matching one of the CSS selectors."""
    for selector in selectors:
        for element in soup.select(selector):
            element.decompose()


def select_text(soup: BeautifulSoup, selector: str) -> str:
    """The text of the elements the selector matches, a line per block; nested matches count once."""
    matches = soup.select(selector)
    chosen = {id(element) for element in matches}
    outermost = [el for el in matches if not any(id(parent) in chosen for parent in el.parents)]
    return "\n".join(block_text(element) for element in outermost)


def block_text(element: Tag) -> str:
    """The element's text with a line break at every block element, so paragraphs stay apart."""
    parts: list[str] = []
    for node in element.descendants:
        if isinstance(node, Tag) and node.name in _BLOCK_TAGS:
            parts.append("\n")
        elif isinstance(node, NavigableString) and not isinstance(node, _NOT_TEXT_STRINGS):
            parts.append(str(node))
    return "".join(parts)


def extract_main_text(
    tree: HtmlElement, page_url: str, fallbacks: bool = True, head_texts: Sequence[str] = ()
) -> str:
    """trafilatura's main text for the page, favouring precision unless that finds almost nothing.

    First without trafilatura's fallback extractors (readability, jusText), which cost a third of the
    time; a page where that finds little, or a text that is not plausibly the article (extract_checks.py:
    a menu, a list of links, a block that shares no word with the page's title), is read again with
    them (bench/extraction.py measures both the quality and the time), unless `fallbacks` is False (a
    page too big for them).
    """
    text = run_trafilatura(tree, page_url, favor_precision=True, fast=True)
    if (
        fallbacks
        and text_size(text) >= _SHORT_TEXT_CHARS
        and not is_plausible_article(text, tree, head_texts)
    ):
        text = run_trafilatura(tree, page_url, favor_precision=True) or text
    elif text_size(text) < _SHORT_TEXT_CHARS and fallbacks:
        text = max(text, run_trafilatura(tree, page_url, favor_precision=True), key=text_size)
    if 0 < text_size(text) < _SHORT_TEXT_CHARS:
        retry = run_trafilatura(tree, page_url, favor_precision=False, fast=not fallbacks)
        text = max(text, retry, key=text_size)
    return text


def run_trafilatura(tree: HtmlElement, page_url: str, *, favor_precision: bool, fast: bool = False) -> str:
    """One trafilatura extraction of the main text; "" when it finds none."""
    document = trafilatura.bare_extraction(
        tree, url=page_url, favor_precision=favor_precision, fast=fast, **_TEXT_OPTIONS
    )
    return (document.text or "") if isinstance(document, Document) else ""


def tidy_text(raw: str, title: str) -> str:
    """Tidy whitespace; drop empty lines, a leading copy of the title, boilerplate and bylines; cap it."""
    lines = [line for line in map(tidy_line, raw.splitlines()) if line]
    # The headline is Article.title already; on the benchmark, dropping its copy at the top of the
    # text lifts F1 0.968 -> 0.970 and exact matches 35% -> 40% (23 of 181 pages start with it).
    if lines and lines[0].casefold() == title.casefold():
        lines = lines[1:]
    text = "\n".join(drop_credit_lines(drop_boilerplate(lines)))
    capped = cut_normalised(text, MAX_TEXT_CHARS)
    if len(capped) == len(text):
        return text
    kept, newline, _ = capped.rpartition("\n")
    return kept if newline else capped


def build_article(page: Page, title: str, text: str, head: HeadMetadata, metadata: Document) -> Article:
    """Combine the text, the <head> metadata and trafilatura's metadata, the <head> taking precedence."""
    return Article(
        url=page.url,
        title=title,
        text=text,
        canonical_url=head.canonical_url,  # not metadata.url: trafilatura falls back to the page URL
        published=head.published or parse_timestamp(metadata.date),
        authors=split_authors(metadata.author),
        site_name=head.site_name or named_site(metadata.sitename, page.url),
    )


def named_site(sitename: str | None, page_url: str) -> str | None:
    """trafilatura's site name, unless it is only the page's host: with no name in the page, it falls back
    to the URL's ("127.0.0.1:8080", "www.example.com"), which names no publisher (alerts show the host)."""
    name = tidy_line(sitename or "")
    try:
        parts = urlsplit(page_url)
        hosts = {parts.netloc.lower(), (parts.hostname or "").lower()}
    except ValueError:
        hosts = set()
    hosts |= {host.removeprefix("www.") for host in hosts}
    return name if name and name.lower().removeprefix("www.") not in hosts else None


def split_authors(authors: str | None) -> tuple[str, ...]:
    """trafilatura joins authors with "; "; split them back, without blanks or repeats."""
    names = (tidy_line(name) for name in (authors or "").split(";"))
    return tuple(dict.fromkeys(name for name in names if name))
