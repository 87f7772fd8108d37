"""Reading a feed's bytes: fastfeedparser where it reads the feed as feedparser would, feedparser otherwise.

feedparser is the reference (its tolerance of broken feeds is why we depend on it), but it costs about
16 ms for a 75 KB / 20-item feed even with its sanitiser off; fastfeedparser reads the same feed in well
under 1 ms (bench/feed_parsing.py). The two agree on the fields our dedup keys and alerts are built from
(entry id, link, title, date, summary, feed title) for the inputs the fast path accepts; everything else
goes to feedparser:
- before parsing: a charset other than UTF-8 (feedparser's charset rules and their `problem` reports are
  its own), a text/* media type with non-ASCII bytes (RFC 3023 makes those US-ASCII, which feedparser
  reports), a DOCTYPE, and a body that is not well-formed XML to expat (feedparser's own strict parser:
  then it reads the feed with its loose parser and reports why);
- after parsing: no entries, a link that is not absolute (feedparser resolves it against xml:base or the
  feed's URL), a title that may hold markup (feedparser decides by a heuristic whether it is HTML), an
  entry with XML markup in its title or date elements, dates fastfeedparser does not read as feedparser,
  an alternate link that is not HTML (an Atom entry whose only link is a PDF: feedparser's link is then
  the entry's id), a <link rel=…> whose URL is its text (`rel="enclosure"`: feedparser may take it).
tests/stages/test_feed_parse_paths.py runs both parsers over a corpus of real feeds (feedparser's own
test feeds) and shows that the path taken never changes a FeedItem.

The paths live beside this module: feed_parse_fast.py (fastfeedparser and the checks above),
feed_parse_reference.py (feedparser, with its parsers bounded), parsed_feed.py (what both return).
"""

from __future__ import annotations

from .feed_parse_fast import read_with_fastfeedparser
from .feed_parse_reference import LOOSE_PARSER_MAX_CHARS as LOOSE_PARSER_MAX_CHARS
from .feed_parse_reference import STRICT_PARSER_MAX_ELEMENTS as STRICT_PARSER_MAX_ELEMENTS
from .feed_parse_reference import read_with_feedparser
from .parsed_feed import FASTFEEDPARSER as FASTFEEDPARSER
from .parsed_feed import FEEDPARSER, ParsedFeed
from .parsed_feed import ParsedEntry as ParsedEntry


def read_feed(url: str, body: bytes, headers: dict[str, str]) -> ParsedFeed:
    """The feed read by fastfeedparser where that provably matches feedparser, else by feedparser."""
    fast = read_with_fastfeedparser(body, headers)
    if isinstance(fast, ParsedFeed):
        return fast
    parsed = read_with_feedparser(url, body, headers)
    return ParsedFeed(parsed.title, parsed.title_is_html, parsed.entries, parsed.problem, FEEDPARSER, fast)
