"""`news-monitor feeds discover|add|list|remove|test`: finding a site's feeds and editing `feeds:`."""

from __future__ import annotations

import argparse
import asyncio
import shlex
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from ..config import Config, FetchSettings, load_config, parse_duration
from ..config.feeds_edit import (
    NewFeed,
    add_feed,
    name_from_title,
    open_monitor_file,
    refuse_duplicate,
    remove_feed,
    save_feeds_edit,
)
from ..errors import FeedError, MonitorError
from ..http.client import HostLimiter, HttpClient
from ..pipeline.feed_cycle import utcnow
from ..pipeline.page_reading import article_from_item
from ..redact import mask_configured_url
from ..sources.discovery import Discovery, discover_feeds
from ..stages.match import compile_watchlists, match_article
from ..stages.poll import poll_feed
from ..storage import open_storage
from .arguments import Commands, optional_config
from .feeds_output import describe_feed, discovery_as_json, render_discovery, render_feed_list, render_test
from .inspect import match_as_json
from .output import EXIT_FAILURE, EXIT_OK, echo, echo_json


@asynccontextmanager
async def _http(config: Config | None) -> AsyncIterator[HttpClient]:
    """The client `run` would use: its timeout, size caps, user agent, guard and per-host pacing."""
    fetch = config.fetch if config else FetchSettings()
    hosts = HostLimiter(fetch.per_host_concurrency, fetch.per_host_delay.total_seconds())
    async with HttpClient(
        timeout=fetch.timeout.total_seconds(),
        user_agent=fetch.resolved_user_agent(),
        allow_private_addresses=fetch.allow_private_addresses,
        host_limiter=hosts,
        max_redirects=fetch.max_redirects,
    ) as http:
        yield http


async def _discover(url: str, config: Config | None) -> Discovery:
    fetch = config.fetch if config else FetchSettings()
    async with _http(config) as http:
        return await discover_feeds(http, url, max_bytes=max(fetch.max_feed_bytes, fetch.max_page_bytes))


def cmd_discover(args: argparse.Namespace) -> int:
    discovery = asyncio.run(_discover(args.url, optional_config(args.config, "default fetch settings apply")))
    if args.json:
        echo_json(discovery_as_json(discovery))
    else:
        echo(render_discovery(discovery, utcnow()))
    return EXIT_OK if discovery.feeds else EXIT_FAILURE


def cmd_add(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    file = open_monitor_file(args.config)
    refuse_duplicate(file, args.url)  # before any request
    discovery = asyncio.run(_discover(args.url, config))
    best = discovery.best
    if best is None:
        raise MonitorError(
            f"feeds: no feed found at {mask_configured_url(args.url)} ({discovery.requests} requests); "
            "`news-monitor feeds discover URL` shows what was tried"
        )
    host = urlsplit(best.url).hostname or ""
    name = args.name or name_from_title(file, best.reading.title or host)
    feed = NewFeed(best.url, name, tuple(args.tags), args.interval)
    change = add_feed(file, feed)
    diff = save_feeds_edit(file, change, args.config, dry_run=args.dry_run)
    found = "" if best.url == args.url else f", found as {best.found} of {mask_configured_url(args.url)}"
    notes = [_other_host(args.url, host)] if _other_host(args.url, host) else []
    if name and not args.name:
        notes.append(_named_after(name, "title" if best.reading.title else "host"))
    named = "".join(f"\n{note}" for note in notes)
    if args.dry_run:
        echo(diff, end="")
        echo(f"dry run: nothing was written ({describe_feed(best, utcnow())}{found}){named}", err=True)
    else:
        echo(f"{change.summary} to {file.path}: {describe_feed(best, utcnow())}{found}{named}")
    return EXIT_OK


def _other_host(typed: str, host: str) -> str:
    """A note when the feed lives on another host than the one typed: the page suggested it, and once
    added it is a configured feed, trusted as the operator's own choice."""
    if host == (urlsplit(typed).hostname or ""):
        return ""
    return (
        f"note: found on {host}, a different host from the address you typed "
        f"({urlsplit(typed).hostname}): add it only if you trust that site as a source"
    )


def _named_after(name: str, source: str) -> str:
    said = "the feed's title" if source == "title" else "the feed's host: the feed gives no title"
    return (
        f"name: {name!r} is {said} (--name sets another); "
        f"`news-monitor feeds remove {_shell_word(name)}` removes it"
    )


def _shell_word(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").isalnum() else shlex.quote(text)


def cmd_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    storage = open_storage(config.storage_url)
    try:
        states = {state.url: state for state in storage.feed_states()}
    finally:
        storage.close()
    rows = [_listed(feed.url, feed.name, feed.tags, states.get(feed.url)) for feed in config.feeds]
    if args.json:
        echo_json(rows)
    else:
        echo(render_feed_list(rows, utcnow()))
    return EXIT_OK


def _listed(url: str, name: str | None, tags: list[str], state: Any) -> dict[str, Any]:
    if state is None:
        return {"url": mask_configured_url(url), "name": name, "tags": tags, "kind": None, "result": None}
    failing = state.consecutive_failures
    return {
        "url": mask_configured_url(url),
        "name": name,
        "tags": tags,
        "kind": state.kind,  # what the URL served at its last successful poll (stages/feed_kind.py)
        "result": state.last_error if failing else state.last_result,
        "state": "disabled" if state.disabled_reason else ("failing" if failing else "ok"),
        "last_poll": state.last_polled_at.isoformat(timespec="seconds") if state.last_polled_at else None,
    }


def cmd_remove(args: argparse.Namespace) -> int:
    file = open_monitor_file(args.config)
    # A dry run shows what --yes would remove.
    change = remove_feed(file, args.feed, confirmed=args.yes or args.dry_run)
    diff = save_feeds_edit(file, change, args.config, dry_run=args.dry_run)
    if args.dry_run:
        echo(diff, end="")
        echo("dry run: nothing was written", err=True)
    else:
        echo(f"{change.summary} ({file.path})")
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report = asyncio.run(_test(args.url, config))
    if args.json:
        echo_json(report)
    else:
        echo(render_test(report, utcnow()))
    return EXIT_OK


async def _test(url: str, config: Config) -> dict[str, Any]:
    """Poll the feed once (as the service would, storing nothing) and match its items' feed text."""
    async with _http(config) as http:
        try:
            poll = await poll_feed(http, url, None, max_bytes=config.fetch.max_feed_bytes)
        except FeedError as exc:
            # A web page's reason already says to run `feeds discover`; other failures are a feed's.
            raise MonitorError(f"feeds: {mask_configured_url(url)}: {exc.reason}") from None
    configured = next((feed for feed in config.feeds if feed.url == url), None)
    tags = frozenset(configured.tags) if configured else frozenset()
    watchlists, now, matched = compile_watchlists(config), utcnow(), []
    for item in poll.items:
        matches = match_article(article_from_item(item), watchlists, tags)
        if matches:
            too_old = item.published is not None and now - item.published > config.poll.max_age
            published = item.published.isoformat(timespec="seconds") if item.published else None
            matched.append(
                {
                    "title": item.title,
                    "link": item.link,
                    "published": published,
                    "older_than_max_age": too_old,
                    "matches": [match_as_json(m) for m in matches],
                }
            )
    dates = [item.published for item in poll.items if item.published]
    return {
        "url": mask_configured_url(url),
        "title": poll.title,
        "items": len(poll.items),
        "newest": max(dates).isoformat(timespec="seconds") if dates else None,
        "problem": poll.problem,
        "moved_to": poll.moved_to,
        "configured": configured is not None,
        "matched": matched,
    }


def _tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def _interval(text: str) -> str:
    """The interval as typed, once it reads as a duration (monitor.yaml gets the operator's spelling)."""
    try:
        parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


_FEEDS_EPILOG = """\
add and remove edit the feeds: list of --config in place, keeping its comments,
order and formatting. The whole configuration is validated first: an edit that
would make it invalid is refused and nothing is written. A running `run` picks
the change up within seconds.

discover and add fetch the page, its robots.txt and at most 16 candidates, paced
per host; links found in the page (not on the site you typed) may not reach
private addresses unless fetch.allow_private_addresses is set.

Exit codes: 0 done; 1 no feed found, or a network failure; 2 refused (duplicate
or unknown feed, no --yes, invalid result) or invalid configuration."""


def add_commands(commands: Commands) -> None:
    feeds = commands.add_parser(
        "feeds",
        help="discover a site's feeds; add, list, remove and test feeds",
        description="Discover a site's feeds; add, list, remove and test the configured feeds.",
        epilog=_FEEDS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    discover = actions.add_parser("discover", help="the feeds a page or site offers, best first")
    discover.add_argument("url", metavar="URL")
    discover.add_argument("--json", action="store_true", help="print JSON instead of text")
    discover.set_defaults(handler=cmd_discover)

    _add_edit_actions(actions)

    test = actions.add_parser(
        "test", help="fetch and parse a feed; what the watchlists match among its items"
    )
    test.add_argument("url", metavar="URL")
    test.add_argument("--json", action="store_true", help="print JSON instead of text")
    test.set_defaults(handler=cmd_test)


def _add_edit_actions(actions: Commands) -> None:
    add = actions.add_parser("add", help="add URL, or the best feed discovered from it, to monitor.yaml")
    add.add_argument("url", metavar="URL")
    add.add_argument(
        "--name", help="the feed's name in alerts, status and `feeds remove` (default: the feed's title)"
    )
    add.add_argument(
        "--tags", type=_tags, default=[], metavar="a,b", help="tags watchlists can be limited to"
    )
    add.add_argument("--interval", type=_interval, metavar="5m", help="poll this feed this often")
    add.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", help="each feed's name, URL, kind and last result")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=cmd_list)

    remove = actions.add_parser("remove", help="remove a feed from monitor.yaml (with --yes)")
    remove.add_argument("feed", metavar="NAME_OR_URL")
    remove.add_argument("--yes", action="store_true", help="confirm removing the feed")
    remove.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
    remove.set_defaults(handler=cmd_remove)
