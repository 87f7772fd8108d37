"""What every provider module gives back: leads (a feed item and its outlet's name), or a SearchError."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar
from urllib.parse import SplitResult, urlsplit

from ...config import WatchlistConfig
from ...errors import FetchError, MonitorError
from ...http.client import HttpClient
from ...http.response import Response
from ...models import FeedItem
from ...redact import without_userinfo
from ...text import cut
from .terms import QueryPlan

# A provider's answer is a stranger's bytes: capped like a feed (GDELT's 250 records are ~100 KB).
MAX_ANSWER_BYTES = 2_000_000
MAX_LEADS_PER_QUERY = 250
MAX_TITLE_CHARS = 500
MAX_LINK_CHARS = 2000

# query: the provider refused this query (the round goes on); rate_limited: HTTP 429; soft_block: an empty
# answer to a query that had results last time (Google News and Bing throttle so, research §1.4, §2);
# failed: anything else that says the provider is not answering (5xx, network, an unreadable answer).
ErrorKind = Literal["query", "rate_limited", "soft_block", "failed"]


class SearchError(MonitorError):
    """A provider's request failed; `reason` says how, in the provider's words where it gave some."""

    def __init__(self, provider: str, reason: str, *, kind: ErrorKind, retry_after: float | None = None):
        self.provider = provider
        self.reason = reason
        self.kind = kind
        self.retry_after = retry_after
        super().__init__(f"{provider}: {reason}")


async def fetch_answer(http: HttpClient, provider: str, url: str) -> Response:
    """A provider's answer to one request, capped at MAX_ANSWER_BYTES; SearchError when none came. The
    endpoint is the operator's (as a feed URL is): the hits' links are guarded when they are fetched."""
    try:
        return await http.get(url, max_bytes=MAX_ANSWER_BYTES, paced=False)
    except FetchError as exc:
        raise SearchError(provider, exc.reason, kind="failed", retry_after=exc.retry_after) from None


@dataclass(frozen=True)
class Lead:
    """A search hit: a feed item for the pipeline (its page is fetched and matched like any other), and
    the outlet's name as the provider gives it."""

    item: FeedItem
    source: str


class BadHit(ValueError):
    """One hit of an answer left out (its `reason`); the rest of the answer is read on."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Answer:
    """A provider's answer to one query: its leads, and why each hit left out was (BadHit)."""

    leads: list[Lead]
    skipped: list[str] = field(default_factory=list)


_Hit = TypeVar("_Hit")


def read_hits(hits: Iterable[_Hit], read: Callable[[_Hit], Lead]) -> Answer:
    """Each hit read into a lead; a bad one (BadHit, or a ValueError its reader did not foresee: a
    stranger's URL can fail to parse in more ways than we check) is skipped, never the answer's end."""
    leads, skipped = [], []
    for hit in hits:
        try:
            leads.append(read(hit))
        except BadHit as exc:
            skipped.append(exc.reason)
        except ValueError as exc:
            skipped.append(f"unreadable: {cut(str(exc), 200)}")
    return Answer(leads, skipped)


def split_url(link: str) -> SplitResult:
    """`link` split, its host and port read (urlsplit refuses some only then); BadHit when unreadable."""
    try:
        parts = urlsplit(link)
        _ = parts.hostname, parts.port
    except ValueError as exc:
        raise BadHit(f"an unreadable URL ({cut(str(exc), 100)})") from None
    return parts


def normal_host(host: str) -> str:
    """A host name as compared: lower case, without its trailing dot, in its IDNA (ASCII) form."""
    host = host.rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host  # no valid IDNA name: compared as written (it names no provider's host either)


def on_domain(host: str | None, domains: tuple[str, ...]) -> bool:
    """Whether `host` is one of `domains` or under one (normalised: `www.Bing.com.` is bing.com's)."""
    name = normal_host(host or "")
    return any(name == domain or name.endswith(f".{domain}") for domain in domains)


def hit_url(link: str, *, own: tuple[str, ...] = ()) -> str:
    """A hit's article URL, cleaned as a feed item's link is (stages/poll.py: stripped, no NUL, no
    userinfo); BadHit when it is too long, unreadable, not http(s), or on the provider's `own` domains."""
    link = without_userinfo(link.replace("\x00", "").strip())
    if len(link) > MAX_LINK_CHARS:
        raise BadHit(f"a link longer than {MAX_LINK_CHARS} characters")
    parts = split_url(link)
    if parts.scheme.lower() not in ("http", "https"):
        raise BadHit(f"not an http(s) URL ({cut(parts.scheme, 20) or 'no scheme'})")
    if not parts.hostname:
        raise BadHit("a URL without a host")
    if on_domain(parts.hostname, own):
        raise BadHit(f"a link to the provider's own site ({cut(parts.hostname, 100)}), never followed")
    return link


class Provider(Protocol):
    name: str
    # Seconds between two requests to it, across the process (politeness.Pacer).
    request_gap: float
    # An empty answer to a query that had results last time is a soft block (rounds.py).
    soft_blocks: bool
    # An empty answer ends the round: the rest of the burst would only be throttled too (Bing).
    stops_on_empty: bool

    def plan(self, watchlist: WatchlistConfig) -> QueryPlan: ...

    async def search(self, http: HttpClient, query: str, interval: timedelta) -> Answer: ...

    # Of an answer's leads, how many the provider should still list at the next round (soft_blocks).
    def still_listed(self, leads: list[Lead], now: datetime) -> int: ...
