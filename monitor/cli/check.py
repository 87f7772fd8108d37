"""`news-monitor check`: validate the configuration; with --online, also try Slack and every feed."""

from __future__ import annotations

import argparse
import asyncio

from ..config import load_config
from ..redact import mask_configured_url
from ..stages.match import compile_watchlists
from .arguments import Commands
from .check_online import check_online
from .check_search import search_lines
from .output import EXIT_FAILURE, EXIT_OK, echo


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    compile_watchlists(config)
    terms = sum(len(w.terms) for w in config.watchlists)
    token = config.slack.token()
    lines, refused = search_lines(config)
    # Valid, but a watchlist search refuses fails the check: the first line must not say OK then.
    verdict = "OK" if not refused else f"valid, but {refused} watchlist(s) REFUSED for search (below)"
    echo(f"{config.path}: {verdict}")
    echo(f"  feeds: {len(config.feeds)}")
    queries = sum(1 for w in config.watchlists if w.query)
    echo(f"  watchlists: {len(config.watchlists)} ({terms} terms, {queries} with a query)")
    echo(f"  storage: {mask_configured_url(config.storage_url)}")
    if token:
        echo(f"  alerts: Slack at {config.slack.resolved_api_url()} (token from ${config.slack.token_env})")
    else:
        echo(f"  alerts: printed to the console (set ${config.slack.token_env} to post to Slack)")
    echo("\n".join(lines))
    if refused:
        echo(f"{refused} watchlist(s) cannot be searched as written: see REFUSED above", err=True)
        return EXIT_FAILURE
    if not args.online:
        return EXIT_OK
    report = asyncio.run(check_online(config))
    echo("\n".join(report.lines()))
    return EXIT_FAILURE if report.failures else EXIT_OK


def add_commands(commands: Commands) -> None:
    check = commands.add_parser(
        "check",
        help="validate the configuration and exit (--online: also try Slack and every feed)",
        description="Validate the configuration. With --online, also check that the Slack token works, "
        "that the bot can post in every configured channel (nothing is posted), and that every feed "
        "answers with a feed; one line per check, with how to fix each that fails. Exit codes: 0 every "
        "check holds, 1 one failed, 2 invalid configuration.",
    )
    check.add_argument(
        "--online", action="store_true", help="also check Slack and every feed over the network"
    )
    check.set_defaults(handler=cmd_check)
