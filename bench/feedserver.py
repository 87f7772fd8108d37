"""A local feed-and-article server for the benchmarks: many sites on loopback, with latency.

Each feed lives on its own loopback address (127.0.x.y), as feeds in real life live on many hosts, so
per-host politeness limits apply as they would; with `Plan(one_host=True)` every feed is served by one
address instead (FEED_HOST, /feeds/N.xml: a self-hosted RSSHub, one search engine's news feeds) while
the articles stay on their sites' addresses. Every response waits `latency` seconds first (a
server across the internet); feeds answer conditional requests (ETag) with 304. Bodies are generated
once, deterministically from the seed: realistic sizes (feeds of 20 items around 75 KB, article pages
of 50-100 KB with navigation, sidebars and footers around the text) and English prose from wordfreq's
list of common words.

The server runs in its own process (`ServerProcess`), so its CPU is not counted as the client's.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any

from aiohttp import web
from wordfreq import top_n_list

# The one host of Plan(one_host=True): none of the sites' addresses (127.0.1.1 and up).
FEED_HOST = "127.0.0.1"
WATCHED = ["Alibaba", "Tencent", "Huawei", "Xiaomi", "SMIC", "Baidu", "BYD", "CATL"]


@dataclass(frozen=True)
class Site:
    """One feed's host: its address, and which of its items are fresh (published in the last hour)."""

    number: int
    address: str
    port: int
    one_host: bool = False  # the feed is served by FEED_HOST, with every other site's

    @property
    def feed_url(self) -> str:
        if self.one_host:
            return f"http://{FEED_HOST}:{self.port}/feeds/{self.number}.xml"
        return f"http://{self.address}:{self.port}/rss.xml"

    def article_url(self, item: int) -> str:
        return f"http://{self.address}:{self.port}/news/{self.number}-{item}.html"


@dataclass(frozen=True)
class Plan:
    """What the server serves; the client derives the same sites and fresh items from it."""

    feeds: int = 1000
    items: int = 20
    fresh_share: float = 0.03  # items published in the last hour; the rest are 10 days old
    latency: float = 0.05
    seed: int = 1
    port: int = 0
    one_host: bool = False  # every feed on FEED_HOST (articles stay on their sites)

    def sites(self) -> list[Site]:
        return [
            Site(n, f"127.0.{1 + n // 250}.{1 + n % 250}", self.port, self.one_host)
            for n in range(self.feeds)
        ]

    def addresses(self) -> set[str]:
        """Every address the server listens on."""
        return {site.address for site in self.sites()} | ({FEED_HOST} if self.one_host else set())

    def is_fresh(self, site: int, item: int) -> bool:
        digest = hashlib.blake2b(f"{self.seed}:{site}:{item}".encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big") / 2**32 < self.fresh_share


class Bodies:
    """Every body the server sends, generated once."""

    def __init__(self, plan: Plan, now: datetime):
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.words = top_n_list("en", 3000)
        self.feeds: dict[int, bytes] = {}
        self.pages: dict[tuple[int, int], bytes] = {}
        self.published: dict[tuple[int, int], str] = {}
        for site in plan.sites():
            self.feeds[site.number] = self._feed(site, now)

    def page(self, site: Site, item: int) -> bytes:
        key = (site.number, item)
        if key not in self.pages:
            self.pages[key] = self._page(site, item)
        return self.pages[key]

    def _sentence(self, rng: random.Random, watched: str | None = None) -> str:
        words = rng.choices(self.words, k=rng.randint(12, 28))
        if watched:
            words.insert(rng.randint(0, len(words)), watched)
        return " ".join(words).capitalize() + "."

    def _paragraph(self, rng: random.Random, sentences: int, watched: str | None = None) -> str:
        return " ".join(self._sentence(rng, watched if n == 1 else None) for n in range(sentences))

    def _feed(self, site: Site, now: datetime) -> bytes:
        rng = random.Random(f"{self.plan.seed}:feed:{site.number}")
        items = []
        for item in range(self.plan.items):
            fresh = self.plan.is_fresh(site.number, item)
            published = now - (
                timedelta(minutes=rng.randint(1, 50)) if fresh else timedelta(days=10, hours=item)
            )
            self.published[(site.number, item)] = published.isoformat()
            watched = rng.choice(WATCHED) if fresh else None
            description = "".join(f"<p>{self._paragraph(rng, 6, watched)}</p>" for _ in range(4))
            items.append(
                f"<item><title>{escape(self._sentence(rng)[:90])}</title>"
                f"<link>{site.article_url(item)}</link><guid>{site.article_url(item)}</guid>"
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{escape(description)}</description></item>"
            )
        channel = (
            f"<channel><title>Site {site.number}</title><link>http://{site.address}/</link>"
            f"<description>News from site {site.number}</description>{''.join(items)}</channel>"
        )
        return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'.encode()

    def _page(self, site: Site, item: int) -> bytes:
        rng = random.Random(f"{self.plan.seed}:page:{site.number}:{item}")
        watched = rng.choice(WATCHED)
        nav = "".join(
            f'<li><a href="/section/{n}">{rng.choice(self.words).title()}</a></li>' for n in range(120)
        )
        text = "".join(f"<p>{self._paragraph(rng, 5, watched if n == 3 else None)}</p>" for n in range(14))
        aside = "".join(f'<li><a href="/t/{n}">{self._sentence(rng)[:70]}</a></li>' for n in range(40))
        footer = "".join(f"<p>{self._sentence(rng)}</p>" for _ in range(25))
        # What makes real pages 50-100 KB: styles, scripts and state blobs around a few KB of text.
        styles = (
            "<style>" + "".join(f".c{n}{{margin:0 auto;padding:{n % 7}px}}" for n in range(700)) + "</style>"
        )
        # The metadata news sites put in their <head> (Open Graph, article times).
        meta = (
            f'<meta property="og:title" content="Story {site.number}-{item}">'
            f'<meta property="og:site_name" content="Site {site.number}">'
            f'<meta property="article:published_time" content="{self.published[(site.number, item)]}">'
        )
        state = ",".join(f'{{"id":{n},"slot":"ad-{n}","size":[300,250],"lazy":true}}' for n in range(500))
        script = f"<script>window.__STATE__=[{state}];</script>"
        html = (
            f"<!doctype html><html><head><title>Story {site.number}-{item}</title>{meta}{styles}{script}"
            "</head><body>"
            f"<nav><ul>{nav}</ul></nav><main><article><h1>Story {site.number}-{item}</h1>{text}</article>"
            f"<aside><h2>Most read</h2><ul>{aside}</ul></aside></main><footer>{footer}</footer></body></html>"
        )
        return html.encode()


def feed_response(request: web.Request, body: bytes) -> web.Response:
    """The feed with its ETag, or 304 Not Modified when the client already holds this body."""
    etag = f'"{hashlib.blake2b(body, digest_size=8).hexdigest()}"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})


def robots_response() -> web.Response:
    """A robots.txt that allows everything (the service asks before fetching an article page)."""
    return web.Response(text="User-agent: *\nAllow: /\n")


def _app(plan: Plan, bodies: Bodies) -> web.Application:
    sites = {site.address: site for site in plan.sites()}

    async def feed(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(plan.latency)
        site = sites[request.host.split(":")[0]]
        return feed_response(request, bodies.feeds[site.number])

    async def feed_of_one_host(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(plan.latency)
        return feed_response(request, bodies.feeds[int(request.match_info["number"])])

    async def page(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(plan.latency)
        site = sites[request.host.split(":")[0]]
        item = int(request.match_info["name"].split("-")[1])
        return web.Response(body=bodies.page(site, item), content_type="text/html")

    async def robots(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(plan.latency)
        return robots_response()

    app = web.Application()
    app.router.add_get("/rss.xml", feed)
    app.router.add_get("/feeds/{number:\\d+}.xml", feed_of_one_host)
    app.router.add_get("/news/{name}.html", page)
    app.router.add_get("/robots.txt", robots)
    return app


def free_port(address: str = "127.0.1.1") -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _serve(plan: Plan, now: datetime, ready: Any) -> None:
    async def main() -> None:
        runner = web.AppRunner(_app(plan, Bodies(plan, now)), access_log=None)
        await runner.setup()
        for address in plan.addresses():
            await web.TCPSite(runner, address, plan.port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


class ServerProcess:
    """`with ServerProcess(plan) as plan:` serves the plan from another process until the block ends."""

    def __init__(self, plan: Plan):
        self.plan = plan if plan.port else Plan(**{**plan.__dict__, "port": free_port()})
        self.now = datetime.now(UTC)
        context = multiprocessing.get_context("spawn")
        self._ready = context.Event()
        self._process = context.Process(target=_serve, args=(self.plan, self.now, self._ready), daemon=True)

    def __enter__(self) -> Plan:
        self._process.start()
        if not self._ready.wait(timeout=120):
            self._process.terminate()
            raise RuntimeError("the benchmark server did not start within 120 s")
        return self.plan

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(timeout=10)
