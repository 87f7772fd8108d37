"""`news-monitor run` (the service) and `news-monitor once` (one full cycle, for cron and tests)."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter

from ..config import load_config
from ..errors import MonitorError
from ..pipeline.feed_cycle import CycleReport, Pipeline
from ..pipeline.search_cycle import search_rounds_tried
from ..service.assembly import with_pipeline
from ..service.ops import OpsServer
from ..service.report import ServiceSummary, log_startup, log_summaries, slack_outage, summarise
from ..service.scheduler import queue_digests, run_service
from .arguments import Commands
from .output import EXIT_FAILURE, EXIT_OK, echo


def cmd_once(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report, summary = asyncio.run(with_pipeline(config, _cycle_and_summary))
    echo(f"cycle done: {report.summary() or 'nothing to do'}", err=True)
    echo(summary.line(), err=True)
    failed = report.counts["feeds/failed"]
    if failed and config.feeds:
        echo(
            f"{failed} of {len(config.feeds)} feeds failed; the feed.failed lines above say why",
            err=True,
        )
    rounds_worked, rounds_failed = search_rounds_tried(report.counts)
    if rounds_failed:
        echo(f"{rounds_failed} search round(s) failed; the search.round_* lines above say why", err=True)
    # Nothing it tried working (every feed and every search round failed: network down, DNS broken)
    # means no cycle happened at all: cron should know. A round not due or shed by GDELT was not tried.
    tried = len(config.feeds) + rounds_worked + rounds_failed
    worked = len(config.feeds) - failed + rounds_worked
    return EXIT_FAILURE if tried and not worked else EXIT_OK


async def _cycle_and_summary(pipeline: Pipeline) -> tuple[CycleReport, ServiceSummary]:
    report = await _one_cycle(pipeline)
    sent = report.counts["alerts/sent"]
    now = pipeline.clock()
    return report, summarise(pipeline.config, pipeline.storage, now, sent=sent, sent_in="this cycle",
                             slack_outage=slack_outage(pipeline))  # fmt: skip


async def _one_cycle(pipeline: Pipeline) -> CycleReport:
    """Poll every feed while the outbox sender posts, then send everything due before exiting."""
    pipeline.outbox.requeue_after_config_change()
    pipeline.outbox.start()
    report = await pipeline.run_cycle()
    # After the feeds: a hit one of them carried is then known, and costs no page fetch.
    report.counts.update(await pipeline.searches.run_due())
    report.counts["digests/queued"] += queue_digests(pipeline)  # after the cycle: its articles are stored
    stats = await pipeline.outbox.drain()
    report.counts.update(
        {"alerts/sent": stats.sent, "alerts/retrying": stats.retrying, "alerts/failed": stats.failed}
    )
    report.counts += Counter()  # drops zero counts
    return report


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    asyncio.run(with_pipeline(config, _serve))
    return EXIT_OK


async def _serve(pipeline: Pipeline) -> None:
    """The service, with the ops endpoints beside it when enabled; it says where things are at start and
    logs a summary line every ops.summary_interval."""
    ops = pipeline.config.ops
    server = OpsServer(pipeline, ops) if ops.enabled else None
    if server is not None:
        try:
            await server.start()
        except OSError as exc:
            raise MonitorError(
                f"ops: cannot listen on {ops.host}:{ops.port}: {exc.strerror or exc}"
            ) from None
    summaries: asyncio.Task[None] | None = None
    try:
        log_startup(pipeline, _healthz_url(ops.host, ops.port) if server is not None else None)
        summaries = asyncio.create_task(log_summaries(pipeline), name="summaries")
        await run_service(pipeline)
    finally:
        if summaries is not None:
            summaries.cancel()
            await asyncio.gather(summaries, return_exceptions=True)
        if server is not None:
            await server.stop()


def _healthz_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"


def add_commands(commands: Commands) -> None:
    commands.add_parser(
        "once", help="run one full cycle over all feeds (and a search round where one is due), then exit"
    ).set_defaults(handler=cmd_once)
    commands.add_parser("run", help="run the service: poll each feed at its interval").set_defaults(
        handler=cmd_run
    )
