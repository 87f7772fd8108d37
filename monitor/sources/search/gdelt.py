"""GDELT DOC 2.0 (api.gdeltproject.org/api/v2/doc/doc, `mode=ArtList&format=json`): free and openly
licensed, real publisher URLs, updated every 15 minutes. On by choice of `search.providers`.

Its rules, from the research (../shared/research/news-sources.md §3.1):
- a quoted phrase under about 5 characters is refused ("The specified phrase is too short."), and so is
  an unquoted keyword under 3 ("Your search contained a keyword that was too short."); one bad term
  fails the whole query. A short term therefore goes through its aliases, or unquoted when it is one
  word of 3-4 characters and has none, or is left out with a note.
- OR'd terms must be in parentheses; hyphenated words must be quoted ("T-Head"). A watchlist's `query:`
  is written in this syntax where GDELT can say it (query_terms.py: AND, OR, -NOT, nearN:"a b").
- an overly long query is refused too (its HTML error page, not JSON): a watchlist's OR group is split
  into queries of at most MAX_QUERY_CHARS (below, where the number comes from).
- query errors come back as HTTP 200 text/html: read as errors, GDELT's own message shown.
- about one request per 5 s, per IP; a 429 on a round's first request is load shedding (rounds.py).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from ...config import WatchlistConfig
from ...http.client import HttpClient
from ...http.response import Response
from ...models import FeedItem
from ...text import cut, html_to_text
from .leads import (
    MAX_LEADS_PER_QUERY,
    MAX_TITLE_CHARS,
    Answer,
    BadHit,
    Lead,
    SearchError,
    fetch_answer,
    hit_url,
    read_hits,
    split_url,
)
from .query_terms import Dialect, written_query
from .terms import QueryPlan, SearchTerm, or_queries, search_terms

NAME = "gdelt"
MIN_QUOTED_CHARS = 5
MIN_KEYWORD_CHARS = 3
# GDELT refuses a timespan under about an hour ("Timespan is too short."); twice the interval overlaps
# rounds, so an article GDELT indexed late is still caught (the store's dedup drops the repeats).
MIN_TIMESPAN = timedelta(hours=1)
MAX_RECORDS = 75  # GDELT's default; at most 250
# GDELT publishes no query length limit and the research found none measured for DOC 2.0 (§3.1: one bad
# part fails the whole query; "multi-phrase OR queries can silently return empty"). The one published
# figure is 50 characters for its TV API's keywords (hrbrmstr/newsflash#8, 2017), and public DOC 2.0
# clients keep OR groups to a handful of terms "to avoid GDELT's length/complexity guard". 250 characters
# holds about 15 names OR'd (our example watchlist's query is 71), far less than an URL limit; a longer
# group is split, each part a query of its own (one more request, 8 s apart).
MAX_QUERY_CHARS = 250
# Research §3.1: pacing at 5.0 s and at 6.5 s still drew 429s in bursts; the team that measured it uses 8 s.
REQUEST_GAP_SECONDS = 8.0
_PLAIN_WORD = re.compile(r"\w+")
_SEEN = "%Y%m%dT%H%M%SZ"


class Gdelt:
    """The GDELT DOC 2.0 provider at `endpoint`."""

    name = NAME
    request_gap = REQUEST_GAP_SECONDS
    # Its timespan is twice the interval: a query with hits an hour ago may rightly have none now.
    soft_blocks = False
    stops_on_empty = False

    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def plan(self, watchlist: WatchlistConfig) -> QueryPlan:
        return gdelt_plan(watchlist)

    async def search(self, http: HttpClient, query: str, interval: timedelta) -> Answer:
        return read_answer(await fetch_answer(http, NAME, self.request_url(query, interval)))

    def still_listed(self, leads: list[Lead], now: datetime) -> int:
        return len(leads)  # not read: GDELT's answers are not checked for soft blocks

    def request_url(self, query: str, interval: timedelta) -> str:
        hours = math.ceil(max(interval * 2, MIN_TIMESPAN).total_seconds() / 3600)
        params = {
            "query": query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": str(MAX_RECORDS),
            "timespan": f"{hours}h",
            "sort": "DateDesc",
        }
        return f"{self.endpoint}?{urlencode(params, quote_via=quote)}"


def gdelt_plan(watchlist: WatchlistConfig) -> QueryPlan:
    """The watchlist's `query:` as GDELT takes it (query_terms.py), else every term's phrases OR'd
    (exclusions are left to the local match, which decides anyway), split when too long; or why it
    cannot be written."""
    query, notes = written_query(watchlist, DIALECT)
    if query is not None and len(query) <= MAX_QUERY_CHARS:
        return QueryPlan(watchlist.name, queries=(query,), notes=tuple(notes))
    if watchlist.query is not None:
        why = (
            "nothing in it narrows a GDELT search" if query is None else f"over {MAX_QUERY_CHARS} characters"
        )
        notes = [f"query: left to the local match ({why}): its terms are searched for instead"]
    terms, term_notes = search_terms(watchlist)
    notes += term_notes
    parts = list(dict.fromkeys(part for term in terms for part in _term_parts(term, notes)))
    for part in [p for p in parts if len(p) > MAX_QUERY_CHARS]:
        notes.append(
            f"{cut(part, 40)!r} left out: longer than a GDELT query may be ({MAX_QUERY_CHARS} characters)"
        )
        parts.remove(part)
    if not parts:
        refused = "none of its terms can be written as a GDELT query; add aliases of 5+ characters"
        return QueryPlan(watchlist.name, notes=tuple(notes), refused=refused)
    queries = or_queries(parts, lambda query: len(query) <= MAX_QUERY_CHARS)
    if len(queries) > 1:
        notes.append(
            f"split into {len(queries)} queries of at most {MAX_QUERY_CHARS} characters: GDELT refuses "
            "overly long queries (one request each)"
        )
    return QueryPlan(watchlist.name, queries=tuple(queries), notes=tuple(notes))


def _term_parts(term: SearchTerm, notes: list[str]) -> list[str]:
    """A term's phrases as GDELT takes them; what is left out, and why, goes to `notes`."""
    written = [gdelt_phrase(phrase) for phrase in term.phrases]
    main, aliases = written[0], [w for w in written[1:] if w]
    notes += [
        f"alias {p!r} left out: {_why_not(p)}"
        for p, w in zip(term.phrases[1:], written[1:], strict=True)
        if not w
    ]
    if len(term.name) < MIN_QUOTED_CHARS and aliases:
        notes.append(
            f"{term.name!r} searched through its aliases only: GDELT refuses quoted phrases under "
            f"{MIN_QUOTED_CHARS} characters, and unquoted it would match any case"
        )
        return aliases
    if main is None:
        notes.append(f"{term.name!r} left out: {_why_not(term.name)}, and it has no alias GDELT accepts")
        return aliases
    if len(term.name) < MIN_QUOTED_CHARS:
        notes.append(
            f"{term.name!r} searched unquoted (GDELT matches it in any case; the local match decides)"
        )
    return [main, *aliases]


def gdelt_phrase(phrase: str) -> str | None:
    """The phrase as GDELT accepts it: a plain word of 3+ characters as is, anything else quoted when it
    has 5+ characters; None when GDELT would refuse it."""
    phrase = " ".join(phrase.split())
    if '"' in phrase:
        return None
    if _PLAIN_WORD.fullmatch(phrase):
        return phrase if len(phrase) >= MIN_KEYWORD_CHARS else None
    return f'"{phrase}"' if len(phrase) >= MIN_QUOTED_CHARS else None


def gdelt_near(left: str, right: str, distance: int) -> str | None:
    """GDELT's `nearN:"a b"`, for two words it takes unquoted; None otherwise."""
    if gdelt_phrase(left) != left or gdelt_phrase(right) != right:
        return None
    return f'near{distance}:"{left} {right}"'


# AND is juxtaposition, OR in parentheses, NOT a leading -, no title scope in ArtList (the scope is dropped).
DIALECT = Dialect("GDELT", phrase=gdelt_phrase, term=_term_parts, near=gdelt_near)


def _why_not(phrase: str) -> str:
    if '"' in phrase:
        return "it holds a double quote"
    if _PLAIN_WORD.fullmatch(phrase):
        return f"GDELT refuses keywords under {MIN_KEYWORD_CHARS} characters"
    return f"GDELT refuses quoted phrases under {MIN_QUOTED_CHARS} characters"


def read_answer(response: Response) -> Answer:
    """GDELT's answer as leads (a bad article skipped); SearchError for a 429, another failure, an
    unreadable answer, or a query it refused."""
    if response.status == 429:
        raise SearchError(NAME, f"HTTP 429: {_message(response.body)}", kind="rate_limited",
                          retry_after=response.retry_after)  # fmt: skip
    if response.status >= 400:
        raise SearchError(NAME, f"HTTP {response.status}", kind="failed", retry_after=response.retry_after)
    body = response.body.strip()
    if not body:
        return Answer([])  # GDELT answers no matches with an empty body or `{}`
    if response.content_type == "text/html" or not body.startswith(b"{"):
        # GDELT's query errors: HTTP 200, text/html, one sentence ("The specified phrase is too short.").
        raise SearchError(NAME, f"GDELT refused the query: {_message(body)}", kind="query")
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError as exc:
        raise SearchError(NAME, f"unreadable JSON answer: {cut(str(exc), 200)}", kind="failed") from None
    except RecursionError:  # `[[[[…` a few thousand deep, well under the size cap
        raise SearchError(NAME, "unreadable JSON answer: nested too deeply", kind="failed") from None
    articles = data.get("articles", []) if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise SearchError(NAME, "the answer has no list of articles", kind="failed")
    return read_hits(articles[:MAX_LEADS_PER_QUERY], _lead)


def _message(body: bytes) -> str:
    return (
        cut(" ".join(html_to_text(body.decode("utf-8", "replace"), max_chars=2000).split()), 300) or "(empty)"
    )


def _lead(article: object) -> Lead:
    """One article as a lead; BadHit when it is no article object or has no usable URL."""
    if not isinstance(article, dict):
        raise BadHit("an article that is not a JSON object")
    url = article.get("url")
    if not isinstance(url, str):
        raise BadHit("an article without a url")
    url = hit_url(url)
    title = article.get("title")
    domain = article.get("domain")
    item = FeedItem(
        feed_url=f"search:{NAME}",
        feed_title="GDELT",
        guid=url,
        link=url,
        title=cut(" ".join(title.split()), MAX_TITLE_CHARS) if isinstance(title, str) else "",
        summary_html="",  # GDELT gives no snippet: the title is the text when the page cannot be read
        published=_seen(article.get("seendate")),
    )
    source = domain if isinstance(domain, str) and domain.strip() else (split_url(url).hostname or "GDELT")
    return Lead(item, cut(source.strip(), 200))


def _seen(value: object) -> datetime | None:
    """GDELT's `seendate` (20260322T101500Z): when it saw the article, close to its publication."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, _SEEN).replace(tzinfo=UTC)
    except ValueError:
        return None
