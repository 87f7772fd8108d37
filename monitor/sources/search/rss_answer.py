"""The RSS answers of Google News and Bing News search, read as hostile bytes: capped when downloaded
(leads.MAX_ANSWER_BYTES), refused when they declare entities (stages/xml_guard.py, as for any feed), and
parsed by lxml with entity resolution, the network and huge trees all off."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from ...errors import FeedError
from ...http.response import Response
from ...stages.xml_guard import refuse_entity_declarations
from ...text import cut, html_to_text
from .leads import MAX_LEADS_PER_QUERY, SearchError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def rss_items(provider: str, response: Response) -> list[etree._Element]:
    """The answer's `<item>`s (at most MAX_LEADS_PER_QUERY); SearchError when it is no RSS answer."""
    if response.status == 429:
        raise SearchError(
            provider, "HTTP 429 (rate limited)", kind="rate_limited", retry_after=response.retry_after
        )
    if response.status >= 400:
        raise SearchError(
            provider, f"HTTP {response.status}", kind="failed", retry_after=response.retry_after
        )
    if not response.body.strip():
        raise SearchError(provider, "an empty answer, not RSS", kind="failed")
    try:
        refuse_entity_declarations(response.url, response.body, response.headers.get("Content-Type", ""))
        root = etree.fromstring(response.body, _PARSER)
    except FeedError as exc:
        raise SearchError(provider, f"refused answer: {exc.reason}", kind="failed") from None
    except etree.XMLSyntaxError as exc:
        kind = f" ({response.content_type})" if response.content_type else ""
        raise SearchError(provider, f"not an RSS answer{kind}: {cut(str(exc), 200)}", kind="failed") from None
    if not isinstance(root.tag, str) or etree.QName(root).localname != "rss":
        name = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        raise SearchError(
            provider, f"not an RSS answer: its root element is <{cut(name, 40)}>", kind="failed"
        )
    return root.findall("channel/item")[:MAX_LEADS_PER_QUERY]


def child(item: etree._Element, name: str, *, namespaced: bool = False) -> etree._Element | None:
    """The item's first child called `name` (in any namespace when `namespaced`, as Bing's `News:`
    namespace URI holds the query it answered)."""
    for element in item:
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if qname.localname == name and (qname.namespace is not None) == namespaced:
            return element
    return None


def child_text(item: etree._Element, name: str, max_chars: int, *, namespaced: bool = False) -> str:
    """The child's text, whitespace folded and cut to `max_chars`; empty when absent."""
    element = child(item, name, namespaced=namespaced)
    if element is None or element.text is None:
        return ""
    return cut(" ".join(element.text[: max_chars * 4].split()), max_chars)


def plain_text(html: str, max_chars: int) -> str:
    """A title or name as text: providers escape HTML in them now and then (`&amp;amp;`)."""
    return cut(" ".join(html_to_text(html, max_chars=max_chars).split()), max_chars)


def rss_date(value: str) -> datetime | None:
    """An RSS pubDate (RFC 822) in UTC; None when missing or unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
