"""Where a site's feeds may be: the links its page declares, the paths its platform uses, common names.

Read from bytes already fetched (lxml, parse only: no library here fetches anything, so every request
goes through our HttpClient and its address guard). What counts as a feed link is trafilatura's
(trafilatura.feeds: the media types of `<link rel=alternate>`, the URL pattern of feed-looking `<a>`
links), but not its `determine_feed`: that drops comment feeds (we rank them last, as feedfinder2 does)
and ignores the page's `<a>` links whenever the head declares a feed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from trafilatura.feeds import FEED_TYPES, LINK_VALIDATION_RE

from ..libxml import one_parse_at_a_time

# How each candidate was found, best first: the order ranks feeds that tie on everything else.
FOUND_ITSELF = "the URL itself"
FOUND_DECLARED = "<link rel=alternate>"
FOUND_PLATFORM = "the platform's feed path"
FOUND_IN_PAGE = "a link in the page"
FOUND_IN_ROBOTS = "robots.txt Sitemap:"
FOUND_GUESSED = "a common feed path"
FOUND_SITEMAP_NAME = "a common news sitemap name"
FOUND_ORDER = (
    FOUND_ITSELF,
    FOUND_DECLARED,
    FOUND_PLATFORM,
    FOUND_IN_PAGE,
    FOUND_IN_ROBOTS,
    FOUND_GUESSED,
    FOUND_SITEMAP_NAME,
)

# A page is read this far for links: a homepage has a few hundred; past this it is a dump or an attack.
MAX_ELEMENTS_READ = 20_000
MAX_URL_CHARS = 2_000
# The common paths (../shared/research/news-sources.md §3.4: feedfinder2's and feedsearch's guesses,
# Hugo's index.xml, Jekyll's feed.xml), asked only when the page declares no feed.
COMMON_FEED_PATHS = ("/feed/", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml", "/rss/")
# The usual names of a news sitemap (§3.5; trafilatura's sitemap_search guesses the first).
NEWS_SITEMAP_PATHS = ("/sitemap_news.xml", "/news-sitemap.xml", "/sitemap-news.xml")
# Where each platform serves its main feed.
PLATFORM_PATHS = {
    "WordPress": "/feed/",
    "Ghost": "/rss/",
    "Blogger": "/feeds/posts/default",
    "Substack": "/feed",
    "Medium": "/feed",
    "Hugo": "/index.xml",
    "Jekyll": "/feed.xml",
}
# How a platform shows itself: its generator meta tag, its hosting domain, its asset URLs.
_GENERATORS = ("WordPress", "Ghost", "Blogger", "Substack", "Medium", "Hugo", "Jekyll")
_HOSTS = {
    ".wordpress.com": "WordPress",
    ".ghost.io": "Ghost",
    ".blogspot.com": "Blogger",
    ".substack.com": "Substack",
    ".medium.com": "Medium",
}
_MARKERS = re.compile(rb"/wp-content/|/wp-includes/|substackcdn\.com|miro\.medium\.com")
_MARKER_PLATFORMS = {b"/wp-content/": "WordPress", b"/wp-includes/": "WordPress",
                     b"substackcdn.com": "Substack", b"miro.medium.com": "Medium"}  # fmt: skip
_COMMENTS = re.compile(r"\bcomments?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    url: str
    found: str  # one of FOUND_ORDER
    label: str = ""  # the link's title attribute, as the page wrote it

    @property
    def about_comments(self) -> bool:
        return bool(_COMMENTS.search(self.url) or _COMMENTS.search(self.label))


@dataclass(frozen=True)
class PageLinks:
    declared: list[Candidate]  # <link rel=alternate> of a feed type
    in_page: list[Candidate]  # feed-looking <a> links
    platform: str | None
    home: str | None = None  # where a WordPress site lives (`https://example.org/blog/`), when it says


@one_parse_at_a_time
def read_page_links(body: bytes, page_url: str) -> PageLinks:
    """The page's feed links, in the page's order, each once, absolute, http(s) only."""
    parser = etree.HTMLParser(no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(body, parser)
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        return PageLinks([], [], _platform(body, page_url, None))
    base = _base(root, page_url)
    declared: dict[str, Candidate] = {}
    in_page: dict[str, Candidate] = {}
    generator, homes = None, []
    for count, element in enumerate(root.iter("link", "a", "meta")):
        if count >= MAX_ELEMENTS_READ:
            break
        if element.tag == "meta" and (element.get("name") or "").lower() == "generator":
            generator = generator or element.get("content")
            continue
        url = _absolute(base, element.get("href"))
        if url is None or url in declared:
            continue
        label = (element.get("title") or "").strip()[:200]
        if element.tag == "link" and _declares_feed(element):
            declared[url] = Candidate(url, FOUND_DECLARED, label)
        elif element.tag == "link":
            homes.append(_wordpress_home(element, url, page_url))
        elif element.tag == "a" and LINK_VALIDATION_RE.search(url) and url != page_url:
            in_page.setdefault(url, Candidate(url, FOUND_IN_PAGE, label or _text(element)))
    in_page = {url: candidate for url, candidate in in_page.items() if url not in declared}
    platform = _platform(body, page_url, generator)
    home = next((home for home in homes if home), None)
    return PageLinks(list(declared.values()), list(in_page.values()), platform, home)


def _wordpress_home(element: etree._Element, url: str, page_url: str) -> str | None:
    """The WordPress site's own address, from the links it prints in every page's head: its REST API
    (`<link rel="https://api.w.org/" href=".../blog/wp-json/">`, rest_output_link_wp_head), or a
    stylesheet on the page's own host (`.../blog/wp-includes/...`; a CDN's copy says nothing)."""
    rel = (element.get("rel") or "").split()
    parts = urlsplit(url)
    path = parts.path
    if "https://api.w.org/" in rel and path.endswith("/wp-json/"):
        return urlunsplit(parts._replace(path=path.removesuffix("wp-json/"), query=""))
    if "stylesheet" in rel and parts.netloc == urlsplit(page_url).netloc:
        for folder in ("/wp-includes/", "/wp-content/"):
            if folder in path:
                return urlunsplit(parts._replace(path=path.split(folder)[0] + "/", query=""))
    return None


def platform_candidates(page_url: str, platform: str | None, home: str | None = None) -> list[Candidate]:
    """The platform's own feed: `/feed/` of a WordPress site (`/blog/feed/` of one installed in `/blog/`),
    `medium.com/feed/@name` of a Medium page."""
    if platform is None:
        return []
    parts = urlsplit(page_url)
    path = PLATFORM_PATHS[platform]
    if platform == "Medium" and parts.hostname == "medium.com":
        first = parts.path.strip("/").split("/")[0]
        path = f"/feed/{first}" if first else "/feed"
    if platform == "WordPress":
        return [Candidate(url, FOUND_PLATFORM, platform) for url in _wordpress_feeds(page_url, home)]
    return [Candidate(_on_site(page_url, path), FOUND_PLATFORM, platform)]


def _wordpress_feeds(page_url: str, home: str | None) -> list[str]:
    """`feed/` under the site's home as its head names it; else under the folder typed (a blog at
    `/blog/` has `/blog/feed/`) and at the root."""
    if home:
        return [urljoin(home, "feed/")]
    folder = urlsplit(page_url).path.rpartition("/")[0] + "/"
    return list(dict.fromkeys([_on_site(page_url, folder + "feed/"), _on_site(page_url, "/feed/")]))


def guessed_candidates(page_url: str) -> list[Candidate]:
    """The common feed paths and news sitemap names on the page's site."""
    return [Candidate(_on_site(page_url, path), FOUND_GUESSED) for path in COMMON_FEED_PATHS] + [
        Candidate(_on_site(page_url, path), FOUND_SITEMAP_NAME) for path in NEWS_SITEMAP_PATHS
    ]


def robots_candidates(page_url: str, sitemaps: tuple[str, ...]) -> list[Candidate]:
    """A site's `Sitemap:` lines, news sitemaps first (a big site lists dozens of plain ones)."""
    urls = [url for line in sitemaps if (url := _absolute(page_url, line)) is not None]
    urls.sort(key=lambda url: "news" not in url.lower())
    return [Candidate(url, FOUND_IN_ROBOTS) for url in dict.fromkeys(urls)]


def _declares_feed(element: etree._Element) -> bool:
    rel = (element.get("rel") or "").lower().split()
    media_type = (element.get("type") or "").split(";")[0].strip().lower()
    return "alternate" in rel and media_type in FEED_TYPES and media_type not in ("text/plain", "text/html")


def _base(root: etree._Element, page_url: str) -> str:
    for base in root.iter("base"):
        return _absolute(page_url, base.get("href")) or page_url
    return page_url


def _absolute(base: str, href: str | None) -> str | None:
    """`href` joined to `base`, without its fragment; None unless it is an http(s) URL of sane length."""
    if not href or len(href) > MAX_URL_CHARS:
        return None
    try:
        parts = urlsplit(urljoin(base, href.strip()))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _on_site(page_url: str, path: str) -> str:
    parts = urlsplit(page_url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())[:200]


def _platform(body: bytes, page_url: str, generator: str | None) -> str | None:
    """The blogging platform the page says it runs on (generator meta), is hosted by, or loads assets of."""
    if generator:
        for name in _GENERATORS:
            if generator.lower().startswith(name.lower()):
                return name
    host = "." + (urlsplit(page_url).hostname or "")
    if host == ".medium.com":
        return "Medium"
    for suffix, name in _HOSTS.items():
        if host.endswith(suffix):
            return name
    marker = _MARKERS.search(body[:500_000])
    return _MARKER_PLATFORMS[marker.group()] if marker else None
