"""`news-monitor digest`: the digest a `delivery: digest` watchlist would get now; --send sends it."""

from __future__ import annotations

import argparse
import asyncio

from ..config import Config, WatchlistConfig, load_config
from ..delivery.digest import digest_now, queue_digest
from ..delivery.notifiers.console import format_digest
from ..delivery.outbox import DeliveryStats
from ..errors import ConfigError
from ..models import Digest
from ..pipeline.feed_cycle import Pipeline
from ..service.assembly import with_pipeline
from .arguments import Commands
from .output import EXIT_FAILURE, EXIT_OK, echo


def cmd_digest(args: argparse.Namespace) -> int:
    """The digest of each digest watchlist for the period since its last one, up to now; --send sends it."""
    config = load_config(args.config)
    watchlists = _digest_watchlists(config, args.watchlist)

    async def run(pipeline: Pipeline) -> tuple[list[tuple[str, Digest | None]], int, DeliveryStats | None]:
        now = pipeline.clock()
        found = [(w.name, digest_now(pipeline.storage, config, w, now)) for w in watchlists]
        if not args.send:
            return found, 0, None
        queued = sum(queue_digest(pipeline.storage, d, now) for _, d in found if d is not None and d.stories)
        pipeline.outbox.start()
        return found, queued, await pipeline.outbox.drain()

    found, queued, stats = asyncio.run(with_pipeline(config, run))
    for name, digest in found:
        if digest is None or not digest.stories:
            echo(f"{name}: nothing new since its last digest")
        else:
            echo(format_digest(digest))
    if stats is not None:
        echo(f"digest: {queued} queued; {stats.sent} sent, {stats.failed} failed, {stats.retrying} to retry")
    return EXIT_FAILURE if stats is not None and stats.failed else EXIT_OK


def _digest_watchlists(config: Config, name: str | None) -> list[WatchlistConfig]:
    if name is not None and name not in {w.name for w in config.watchlists}:
        known = ", ".join(w.name for w in config.watchlists)
        raise ConfigError(f"no watchlist named {name!r} (watchlists: {known})", path=str(config.path))
    chosen = [w for w in config.watchlists if w.delivery == "digest" and name in (None, w.name)]
    if not chosen:
        which = f"watchlist {name!r} alerts immediately" if name else "no watchlist has digests"
        raise ConfigError(
            f'{which}: give it `delivery: digest` and a schedule, e.g. digest: "0 8 * * 1-5"',
            path=str(config.watchlists_path or config.path),
        )
    return chosen


def add_commands(commands: Commands) -> None:
    digest = commands.add_parser(
        "digest", help="show the digest a `delivery: digest` watchlist would get now (--send: send it)"
    )
    digest.add_argument("--watchlist", metavar="NAME", help="only this watchlist")
    digest.add_argument("--send", action="store_true", help="queue and send it now; the next starts here")
    digest.set_defaults(handler=cmd_digest)
