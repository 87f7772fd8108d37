"""Dedupe stage, first layer: the keys by which an article is recognised when it comes back.

Two checkpoints (STYLE.md): cheap item keys (GUID, canonical link) before the page is fetched, then the
page's rel=canonical URL and a fingerprint of its normalised text before anything is posted. Storage
decides with unique constraints; this module only computes keys. Whole-story clustering (the same
event told by different outlets) is a later layer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from ..models import Article, FeedItem
from ..storage import ArticleKey
from ..text import normalise_text

# Query parameters that track the reader, not the content; dropping them makes shared links compare equal.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "ga_", "hsa_", "__hs", "_hs")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "_ga",
        "_gl",
        "ref_src",
        "cmpid",
        "ocid",
        "smid",
        "ito",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Below this many words a "fingerprint" would join unrelated short items (e.g. two empty summaries
# both reading "Read more"); such articles are deduplicated by GUID and URL only.
MIN_FINGERPRINT_WORDS = 25


def canonicalise_url(url: str) -> str:
    """One spelling per page: tracking parameters and fragment dropped, case, port, slash normalised.

    A link no URL parser can read (`http://[foo]/`, a port out of range) is its own key, stripped: the
    item is still recorded and matched on its feed text, and its fetch fails with a clear reason, instead
    of the whole item failing here on every poll.
    """
    try:
        return _canonical_form(url)
    except ValueError:
        return url.strip()


def _canonical_form(url: str) -> str:
    parts = urlsplit(canonicalize_url(url.strip(), keep_fragments=False))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    )
    return urlunsplit((scheme, host, path, query, ""))


def _is_tracking(param: str) -> bool:
    name = param.lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def plausible_canonical(page_url: str, canonical: str | None) -> str | None:
    """The page's rel=canonical when it can be believed, else None.

    A page may only speak for its own site (same host, or one host inside the other, as www.x.com and
    x.com), and never for a site's home page: otherwise a stranger's page could declare itself to be
    another site's story and suppress it, and every article with a lazy `canonical=/` would collapse
    into one.
    """
    if not canonical:
        return None
    try:
        page, claimed = urlsplit(page_url), urlsplit(canonical)
        page_host, claimed_host = (page.hostname or "").lower(), (claimed.hostname or "").lower()
    except ValueError:  # an unreadable canonical link (bad brackets, bad port) speaks for nothing
        return None
    same_site = (
        page_host == claimed_host
        or page_host.endswith("." + claimed_host)
        or claimed_host.endswith("." + page_host)
    )
    if not same_site or claimed.path.strip("/") == "":
        return None
    return canonical


def mark_shared_links(items: Sequence[FeedItem]) -> tuple[FeedItem, ...]:
    """The poll's items, those whose link other entries share marked `link_shared`.

    Entries with distinct ids and titles behind one link (a blog whose posts are #fragments of a day page,
    podcast episodes all linking the show's home page) are distinct items: the link, which would make
    all but the first duplicates, is not their key. True duplicates stay so: the same GUID is one item,
    and entries with no id of their own take their link as GUID, so one link is one GUID among them.
    """
    by_link: defaultdict[str, list[FeedItem]] = defaultdict(list)
    for item in items:
        if item.link:
            by_link[canonicalise_url(item.link)].append(item)
    shared = {
        id(item)
        for group in by_link.values()
        if len({item.guid for item in group}) > 1 and len({item.title for item in group}) > 1
        for item in group
    }
    marked = (dataclasses.replace(item, link_shared=True) if id(item) in shared else item for item in items)
    return tuple(marked)


def item_keys(item: FeedItem) -> list[ArticleKey]:
    """Keys known before fetching: the GUID (scoped to its feed: GUIDs are unique per feed) and the link,
    unless entries with other ids share it."""
    keys = [ArticleKey("guid", f"{item.feed_url} {item.guid}")]
    if item.link and not item.link_shared:
        keys.append(ArticleKey("url", canonicalise_url(item.link)))
    return keys


def article_keys(item: FeedItem, article: Article) -> list[ArticleKey]:
    """Every key of a fetched article: the item's, the final and rel=canonical URLs, the text fingerprint.

    An item whose link is shared has no URL keys: its text is the feed's (no page was read for it)."""
    keys = item_keys(item)
    for url in (article.url, article.canonical_url):
        if url and not item.link_shared:
            keys.append(ArticleKey("url", canonicalise_url(url)))
    fingerprint = fingerprint_text(article.text)
    if fingerprint:
        keys.append(ArticleKey("fingerprint", fingerprint))
    return list(dict.fromkeys(keys))


_WORD = re.compile(r"\w+")


def fingerprint_text(text: str) -> str | None:
    """SHA-256 of the text's words, case-folded: equal for the same text in different markup or spacing."""
    words = _WORD.findall(normalise_text(text).casefold())
    if len(words) < MIN_FINGERPRINT_WORDS:
        return None
    return hashlib.sha256(" ".join(words).encode()).hexdigest()
