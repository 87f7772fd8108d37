"""Google News RSS search (news.google.com/rss/search?q=…&hl=…&gl=…&ceid=…): the most outlets, no key;
opt-in only (research ../shared/research/news-sources.md §1, §4):

- its feed's own <copyright> allows "rendering Google News results within a personal feed reader for
  personal, non-commercial use" only: TERMS_NOTICE is in the README and logged when a run starts with it;
- its links are opaque Google tokens (news.google.com/rss/articles/CBMi…) since July 2024; the publisher
  URL takes undocumented, rate-limited requests to Google, so none are made: the alert links to Google,
  and the article's page is never fetched through it (in the EU it lands on consent.google.com, whose
  text would be read as the article's): the item's text is the feed's title and description
  (FeedItem.text_only), and the watchlists match that;
- items are keyed on their `guid` (the CBMi… id), titles lose their " - Publisher" suffix (the
  `<source>` names the publisher, shown in the alert);
- query: the watchlist's `query:` in Google's syntax where it can say it (query_terms.py), else every
  phrase quoted and OR'd; `when:1d` (Google's date filters are approximate: the item's
  pubDate is checked locally against poll.max_age as any feed item's);
- one request at a time, REQUEST_GAP_SECONDS apart; a 429 is backed off like any failure; an empty
  answer to a query that had results is a soft block (rounds.py): Google answers a blocked client so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote_plus, urlencode, urlsplit

from lxml import etree

from ...config import WatchlistConfig
from ...config.search import GoogleNewsEdition
from ...http.client import HttpClient
from ...models import MAX_FEED_SUMMARY_CHARS, FeedItem
from ...text import cut
from .leads import (
    MAX_LINK_CHARS,
    MAX_TITLE_CHARS,
    Answer,
    Lead,
    SearchError,
    fetch_answer,
    hit_url,
    read_hits,
)
from .query_terms import Dialect, written_query
from .rss_answer import child, child_text, plain_text, rss_date, rss_items
from .terms import QueryPlan, SearchTerm, or_queries, search_terms

NAME = "google_news"
TERMS_NOTICE = (
    "Google News RSS search is on (search.providers lists google_news). Its feed's terms allow its use "
    '"solely for the purpose of rendering Google News results within a personal feed reader for '
    'personal, non-commercial use"; any other use is prohibited by them. Keep it for personal use, '
    "or remove google_news from search.providers."
)
# Research §4.2: requests to news.google.com one at a time, at least 5-10 s apart; the top of that range,
# as Google "rate-limits aggressively" (GNews README, §1.4) and one 429 costs a backoff of 5 min or more.
REQUEST_GAP_SECONDS = 10.0
WHEN = "when:1d"
# Google documents no limit for News (nor anything else of this feed); Google Search ignores words
# beyond 32 in a query, so a watchlist's OR group is split into queries of at most 32 words.
MAX_QUERY_WORDS = 32
# An empty answer where the last had items is a soft block only for items still inside `when:1d` by now:
# those of the last 20 hours (4 h short of the day: backed-off rounds come up to 2 h late).
STILL_LISTED = timedelta(hours=20)
_SUFFIX_SEPARATORS = (" - ", " – ", " — ", " | ")


class GoogleNews:
    """The Google News RSS search provider at `endpoint`, in one edition."""

    name = NAME
    request_gap = REQUEST_GAP_SECONDS
    soft_blocks = True
    stops_on_empty = False

    def __init__(self, endpoint: str, edition: GoogleNewsEdition):
        self.endpoint = endpoint
        self.edition = edition

    def plan(self, watchlist: WatchlistConfig) -> QueryPlan:
        return google_news_plan(watchlist)

    async def search(self, http: HttpClient, query: str, interval: timedelta) -> Answer:
        response = await fetch_answer(http, NAME, self.request_url(query))
        if urlsplit(response.url).path.rstrip("/").endswith("/rss/unsupported"):
            raise SearchError(NAME, self._unsupported(), kind="failed")
        return read_hits(rss_items(NAME, response), read_item)

    def request_url(self, query: str) -> str:
        edition = self.edition
        params = {"q": query, "hl": edition.hl, "gl": edition.gl, "ceid": edition.ceid}
        return f"{self.endpoint}?{urlencode(params, quote_via=quote_plus, safe=':')}"

    def still_listed(self, leads: list[Lead], now: datetime) -> int:
        """The leads Google should still list at the next round (undated ones count: no telling)."""
        return sum(
            1 for lead in leads if lead.item.published is None or now - lead.item.published < STILL_LISTED
        )

    def _unsupported(self) -> str:
        edition = self.edition
        return (
            f"Google News has no edition hl={edition.hl} gl={edition.gl} ceid={edition.ceid}: it redirected "
            "the search to /rss/unsupported. Set search.google_news to one it has (hl: en-US, gl: US, "
            "ceid: US:en; hl: en-GB, gl: GB, ceid: GB:en; hl: de, gl: DE, ceid: DE:de)"
        )


def google_news_plan(watchlist: WatchlistConfig) -> QueryPlan:
    """The watchlist's `query:` as Google takes it (query_terms.py), else its phrases quoted and OR'd;
    with `when:1d` (the OR of phrases split beyond 32 words)."""
    query, notes = written_query(watchlist, DIALECT)
    if query is not None and len(f"{query} {WHEN}".split()) <= MAX_QUERY_WORDS:
        return QueryPlan(watchlist.name, queries=(f"{query} {WHEN}",), notes=tuple(notes))
    if watchlist.query is not None:
        why = "nothing in it narrows a Google search" if query is None else f"over {MAX_QUERY_WORDS} words"
        notes = [f"query: left to the local match ({why}): its terms are searched for instead"]
    terms, term_notes = search_terms(watchlist)
    notes += term_notes
    parts = []
    for phrase in dict.fromkeys(phrase for term in terms for phrase in term.phrases):
        words = " ".join(phrase.split())
        if '"' in words:
            notes.append(f"{phrase!r} left out: it holds a double quote, which a quoted phrase cannot")
        elif len(words.split()) + 1 > MAX_QUERY_WORDS:
            notes.append(f"{cut(phrase, 40)!r} left out: longer than {MAX_QUERY_WORDS} words")
        else:
            parts.append(f'"{words}"')
    if not parts:
        refused = "none of its terms can be written as a Google News query (each holds a double quote)"
        return QueryPlan(watchlist.name, notes=tuple(notes), refused=refused)
    groups = or_queries(parts, lambda query: len(f"{query} {WHEN}".split()) <= MAX_QUERY_WORDS)
    if len(groups) > 1:
        notes.append(f"split into {len(groups)} queries: Google reads at most {MAX_QUERY_WORDS} words of one")
    return QueryPlan(watchlist.name, queries=tuple(f"{group} {WHEN}" for group in groups), notes=tuple(notes))


def google_phrase(phrase: str) -> str | None:
    """The phrase quoted; None when it holds a double quote (a quoted phrase cannot)."""
    words = " ".join(phrase.split())
    return None if '"' in words or not words else f'"{words}"'


def _term_phrases(term: SearchTerm, notes: list[str]) -> list[str]:
    written = [google_phrase(phrase) for phrase in term.phrases]
    notes += [
        f"{p!r} left out: it holds a double quote"
        for p, w in zip(term.phrases, written, strict=True)
        if not w
    ]
    return [w for w in written if w]


# AND is juxtaposition, OR is OR, NOT a leading -, `intitle:` the title scope; NEAR is searched as AND.
DIALECT = Dialect(
    "Google News", phrase=google_phrase, term=_term_phrases, title=lambda phrase: f"intitle:{phrase}"
)


def read_item(item: etree._Element) -> Lead:
    """One `<item>` as a lead: keyed on its guid, titled without the publisher's suffix, its text the
    feed's (the link is Google's, on its own site by design, never fetched); BadHit without an http(s)
    link."""
    link = hit_url(child_text(item, "link", MAX_LINK_CHARS))
    guid = child_text(item, "guid", MAX_LINK_CHARS) or link
    publisher = plain_text(child_text(item, "source", 400), 200)
    title = strip_publisher(
        plain_text(child_text(item, "title", MAX_TITLE_CHARS * 2), MAX_TITLE_CHARS), publisher
    )
    description = child(item, "description")
    summary = (description.text or "")[:MAX_FEED_SUMMARY_CHARS] if description is not None else ""
    feed_item = FeedItem(
        feed_url=f"search:{NAME}",
        feed_title="Google News",
        guid=guid,
        link=link,
        title=title,
        summary_html=summary,
        published=rss_date(child_text(item, "pubDate", 100)),
        text_only=True,
    )
    return Lead(feed_item, publisher or "Google News")


def strip_publisher(title: str, publisher: str) -> str:
    """The headline without Google's " - Publisher" suffix (only when it names the item's `<source>`)."""
    if not publisher:
        return title
    for separator in _SUFFIX_SEPARATORS:
        suffix = f"{separator}{publisher}"
        if title.endswith(suffix) and len(title) > len(suffix):
            return title[: -len(suffix)].rstrip()
    return title
