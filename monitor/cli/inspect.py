"""`news-monitor extract` and `match`: one page, read from a file or URL, extracted; its matches described."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import Config, FetchSettings, load_config
from ..errors import MonitorError
from ..http.client import HttpClient
from ..models import Article, Page
from ..stages.extract import extract_article
from ..stages.fetch import decode_html, fetch_page
from ..stages.match import compile_watchlists, match_article
from .arguments import Commands, optional_config
from .output import EXIT_OK, echo, echo_json


async def read_article(source: str, url: str | None, config: Config | None) -> Article:
    site_rules = config.site_rules if config else ()
    if source.startswith(("http://", "https://")):
        page = await _download(source, config)
    else:
        page = _read_file(Path(source), url)
    return await asyncio.to_thread(extract_article, page, site_rules)


async def _download(url: str, config: Config | None) -> Page:
    fetch = config.fetch if config else FetchSettings()
    timeout, user_agent, max_bytes = (
        fetch.timeout.total_seconds(),
        fetch.resolved_user_agent(),
        fetch.max_page_bytes,
    )
    # A URL typed by the operator is trusted like a configured feed URL: it may name a private address, and
    # then its redirects may stay there. It is often an alert's link, from a stranger's feed: when it names
    # a public address, its redirects may not lead into private ones (a review of issue 12 read a
    # cloud-metadata canary through `match <link>` before).
    allow_private = fetch.allow_private_addresses
    async with HttpClient(
        timeout=timeout, user_agent=user_agent, allow_private_addresses=allow_private
    ) as http:
        return await fetch_page(http, url, max_bytes=max_bytes, guarded=False)


def _read_file(path: Path, url: str | None) -> Page:
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise MonitorError(f"cannot read {path}: {exc.strerror or exc}") from None
    return Page(url=url or path.resolve().as_uri(), html=decode_html(body, None))


def article_as_json(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "text": article.text,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "published": article.published.isoformat() if article.published else None,
        "authors": list(article.authors),
        "site_name": article.site_name,
    }


def match_as_json(match: Any) -> dict[str, Any]:
    return {
        "watchlist": match.watchlist,
        "channel": match.channel,
        "terms": list(match.terms),
        "hits": [
            {"term": h.term, "matched_text": h.matched_text, "in_title": h.in_title, "sentence": h.sentence}
            for h in match.hits
        ],
    }


def format_matches(article: Article, matches: Sequence[Any]) -> str:
    if not matches:
        return f"No watchlist matches {article.title!r}."
    lines = [f"{article.title}"]
    for match in matches:
        lines.append(f"\n{match.watchlist} -> {match.channel}")
        for term in match.terms:
            hits = [h for h in match.hits if h.term == term]
            lines.append(f"  {term} ({len(hits)} {'hit' if len(hits) == 1 else 'hits'})")
            for sentence in dict.fromkeys(("title: " if h.in_title else "") + h.sentence for h in hits):
                lines.append(f"    - {sentence}")
    return "\n".join(lines)


def cmd_extract(args: argparse.Namespace) -> int:
    article = asyncio.run(
        read_article(args.source, args.url, optional_config(args.config, "no per-site rules apply"))
    )
    echo_json(article_as_json(article))
    return EXIT_OK


def cmd_match(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    article = asyncio.run(read_article(args.source, args.url, config))
    matches = match_article(article, compile_watchlists(config))
    if args.json:
        echo_json([match_as_json(m) for m in matches])
    else:
        echo(format_matches(article, matches))
    return EXIT_OK


def add_commands(commands: Commands) -> None:
    extract = commands.add_parser("extract", help="print the extracted article of a file or URL as JSON")
    extract.add_argument("source", metavar="FILE_OR_URL")
    extract.add_argument("--url", help="the page's original URL, when SOURCE is a saved file")
    extract.set_defaults(handler=cmd_extract)

    match = commands.add_parser("match", help="show which watchlists and terms match a file or URL")
    match.add_argument("source", metavar="FILE_OR_URL")
    match.add_argument("--url", help="the page's original URL, when SOURCE is a saved file")
    match.add_argument("--json", action="store_true", help="print JSON instead of text")
    match.set_defaults(handler=cmd_match)
