"""Bing News RSS (www.bing.com/news/search?q=…&format=rss): undocumented, no SLA, about 30 items per
answer; off unless listed (research ../shared/research/news-sources.md §2, §4):

- each item's link is Bing's click tracker, `…/news/apiclick.aspx?…&url=<publisher URL>&…`: the
  publisher URL is read from its `url` parameter, with no request; apiclick is never followed (an item
  whose link is another Bing page, or an apiclick without `url`, is left out). The publisher's page is
  then fetched like any lead's, through the private-address guard;
- Bing ignores OR ("treats the OR as text"; grouped OR expressions come back empty): one request per
  term and alias, each quoted ("quoting the name keeps Bing focused");
- it silently returns empty answers after bursts of requests: one request every REQUEST_GAP_SECONDS, a
  round stops at its first empty answer (the next round starts with the query after it, rounds.py), and
  an empty answer to a query that had results is a soft block;
- the description is a real snippet: the text when the page cannot be read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, quote, urlencode

from lxml import etree

from ...config import WatchlistConfig
from ...http.client import HttpClient
from ...models import MAX_FEED_SUMMARY_CHARS, FeedItem
from .leads import (
    MAX_LINK_CHARS,
    MAX_TITLE_CHARS,
    Answer,
    BadHit,
    Lead,
    fetch_answer,
    hit_url,
    on_domain,
    read_hits,
    split_url,
)
from .rss_answer import child_text, plain_text, rss_date, rss_items
from .terms import QueryPlan, search_terms

NAME = "bing_news"
# Research §4.2: "Bing: one request every 10+ s, and stop after the first empty answer in a burst".
REQUEST_GAP_SECONDS = 12.0
# Bing's own site: its links there are trackers or its own pages, never an article (compared normalised).
OWN_DOMAINS = ("bing.com",)
# "Long keyword-stuffed queries return 0 results" (§2): a phrase longer than this is left out.
MAX_PHRASE_WORDS = 8


class BingNews:
    """The Bing News RSS provider at `endpoint`."""

    name = NAME
    request_gap = REQUEST_GAP_SECONDS
    soft_blocks = True
    stops_on_empty = True

    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def plan(self, watchlist: WatchlistConfig) -> QueryPlan:
        return bing_news_plan(watchlist)

    async def search(self, http: HttpClient, query: str, interval: timedelta) -> Answer:
        url = f"{self.endpoint}?{urlencode({'q': query, 'format': 'rss'}, quote_via=quote)}"
        response = await fetch_answer(http, NAME, url)
        return read_hits(rss_items(NAME, response), read_item)

    def still_listed(self, leads: list[Lead], now: datetime) -> int:
        return len(leads)  # Bing's answer has no date window: what it listed, it lists next time


def bing_news_plan(watchlist: WatchlistConfig) -> QueryPlan:
    """One query per term and alias, quoted: Bing ignores OR. A `query:` is left to the local match:
    the research (§2) does not say Bing honours an added required word, only that long queries come
    back empty."""
    terms, notes = search_terms(watchlist)
    if watchlist.query is not None:
        notes.insert(
            0,
            "query: left to the local match: Bing ignores OR and is not known to honour an added "
            "required word, so its terms are searched for one by one",
        )
    queries = []
    for phrase in dict.fromkeys(phrase for term in terms for phrase in term.phrases):
        words = " ".join(phrase.split())
        if '"' in words:
            notes.append(f"{phrase!r} left out: it holds a double quote, which a quoted phrase cannot")
        elif len(words.split()) > MAX_PHRASE_WORDS:
            notes.append(
                f"{phrase!r} left out: Bing answers long phrases with nothing (over {MAX_PHRASE_WORDS} words)"
            )
        else:
            queries.append(f'"{words}"')
    if not queries:
        return QueryPlan(
            watchlist.name, notes=tuple(notes), refused="none of its terms can be written as a Bing query"
        )
    if len(queries) > 1:
        notes.append(f"Bing ignores OR: one request per term and alias ({len(queries)})")
    return QueryPlan(watchlist.name, queries=tuple(queries), notes=tuple(notes))


def publisher_url(link: str) -> str:
    """The article's URL: the `url` parameter of Bing's apiclick.aspx link, or a direct publisher link;
    BadHit for any other Bing link (never followed), a URL on Bing, or anything but http(s)."""
    link = link.strip()
    parts = split_url(link)
    if on_domain(parts.hostname, OWN_DOMAINS):
        if not parts.path.lower().endswith("/apiclick.aspx"):
            raise BadHit("a link to a Bing page that is not its click tracker (never followed)")
        link = (parse_qs(parts.query).get("url") or [""])[0]
        if not link:
            raise BadHit("a Bing click tracker link without url= (never followed)")
    return hit_url(link, own=OWN_DOMAINS)


def read_item(item: etree._Element) -> Lead:
    """One `<item>` as a lead for the publisher's URL; BadHit when it has none."""
    url = publisher_url(child_text(item, "link", MAX_LINK_CHARS * 2))
    source = plain_text(child_text(item, "Source", 400, namespaced=True), 200)
    feed_item = FeedItem(
        feed_url=f"search:{NAME}",
        feed_title="Bing News",
        guid=url,
        link=url,
        title=plain_text(child_text(item, "title", MAX_TITLE_CHARS * 2), MAX_TITLE_CHARS),
        summary_html=child_text(item, "description", MAX_FEED_SUMMARY_CHARS),
        published=rss_date(child_text(item, "pubDate", 100)),
    )
    return Lead(feed_item, source or split_url(url).hostname or "Bing News")
