"""Dedupe stage, first layer: the keys by which an article is recognised when it comes back.

Two checkpoints (STYLE.md): cheap item keys (GUID, canonical link) before the page is fetched, then the
page's rel=canonical URL and a fingerprint of its normalised text before anything is posted. Storage
decides with unique constraints; this module only computes keys. Whole-story clustering (the same
event told by different outlets) is a later layer.
"""

from __future__ import annotations

import hashlib
import re
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


def item_keys(item: FeedItem) -> list[ArticleKey]:
    """Keys known before fetching: the GUID (scoped to its feed: GUIDs are unique per feed) and the link."""
    keys = [ArticleKey("guid", f"{item.feed_url} {item.guid}")]
    if item.link:
        keys.append(ArticleKey("url", canonicalise_url(item.link)))
    return keys


def article_keys(item: FeedItem, article: Article) -> list[ArticleKey]:
    """Every key of a fetched article: the item's, the final and rel=canonical URLs, the text fingerprint."""
    keys = item_keys(item)
    for url in (article.url, article.canonical_url):
        if url:
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
