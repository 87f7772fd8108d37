"""The `news-monitor` command: the only place that turns errors into exit codes and messages.

Exit codes: 0 success, 1 a runtime failure (storage, network for `extract`), 2 invalid configuration or
usage, 130 interrupted, 141 the reader of the output went away (`news-monitor status | head`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import DEFAULT_CONFIG_PATH, Config, WatchlistConfig, load_config, parse_duration
from ..config.schema import stale_schema_files, write_schema_files
from ..config.watch_edit import (
    Edit,
    NewTerm,
    WatchEditRefused,
    WatchlistsFile,
    add_term,
    describe_watchlists,
    open_watchlists,
    remove_term,
    remove_watchlist,
    render_watchlists,
    save_edit,
)
from ..delivery.digest import digest_now, queue_digest
from ..delivery.notifiers.console import format_digest
from ..delivery.outbox import DeliveryStats
from ..errors import ConfigError, MonitorError
from ..logs import blank_controls, configure_logging, safe_text
from ..models import Digest
from ..pipeline.feed_cycle import CycleReport, Pipeline, utcnow
from ..redact import mask_configured_url, mask_secrets
from ..service.assembly import with_pipeline
from ..service.ops import OpsServer
from ..service.report import ServiceSummary, log_startup, log_summaries, slack_outage, summarise
from ..service.scheduler import queue_digests, run_service
from ..stages.match import compile_watchlists, match_article
from ..storage import open_storage
from ..stories.report import build_stories, render_stories
from .admin import migrate_store
from .check_online import check_online
from .inspect import article_as_json, format_matches, match_as_json, read_article
from .review import PreviewRow, backfill, preview, render_preview
from .status import build_status, render_status

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
# What a shell reports for a process ended by SIGPIPE (128 + 13), as `yes | head` does.
EXIT_BROKEN_PIPE = 141
# Names monitor.yaml when --config is not given (a container or a systemd unit sets it once).
CONFIG_ENV = "NEWS_MONITOR_CONFIG"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run_command(argv)
        sys.stdout.flush()  # inside the try: a reader gone before the last write is found here
        return code
    except BrokenPipeError:
        return _quiet_after_broken_pipe()


def _quiet_after_broken_pipe() -> int:
    """End quietly when the reader went away (`news-monitor status | head`), as Python's documentation
    on SIGPIPE advises: stdout now points at devnull, so the flush at exit cannot fail again and print
    a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def _run_command(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        return int(args.handler(args) or EXIT_OK)
    except ConfigError as exc:
        echo(f"news-monitor: configuration error:\n{_indent(str(exc))}", err=True)
        return EXIT_CONFIG
    except MonitorError as exc:
        echo(f"news-monitor: {exc}", err=True)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="news-monitor", description="Watch news feeds and post watchlist matches to Slack."
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH),
        help=f"monitor.yaml, before or after the command (default: ${CONFIG_ENV} or {DEFAULT_CONFIG_PATH})",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--version", action="version", version=f"news-monitor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    commands.add_parser("once", help="run one full cycle over all feeds, then exit").set_defaults(
        handler=cmd_once
    )
    commands.add_parser("run", help="run the service: poll each feed at its interval").set_defaults(
        handler=cmd_run
    )
    migrate = commands.add_parser(
        "migrate",
        help="bring the store's schema to this version (PostgreSQL needs it after an upgrade); "
        "--from copies an older store in",
    )
    migrate.add_argument("--from", dest="source", metavar="URL",
                         help="a store to copy into the configured one, e.g. sqlite:///state/news-monitor.db "
                         "(a SQLite store is read from a snapshot and left as it is; the configured one "
                         "must be empty)")  # fmt: skip
    migrate.set_defaults(handler=cmd_migrate)
    status = commands.add_parser(
        "status", help="show feeds (last poll, result, next poll, errors) and the outbox"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    status.set_defaults(handler=cmd_status)
    stories = commands.add_parser(
        "stories", help="recent stories: which articles were joined into one, and why"
    )
    stories.add_argument("--since", type=_duration_arg, default="3d", help="how far back (default: 3d)")
    stories.add_argument(
        "--all", action="store_true", help="also stories of one article that matched no watchlist"
    )
    stories.add_argument("--json", action="store_true", help="print JSON instead of text")
    stories.set_defaults(handler=cmd_stories)
    retry = commands.add_parser(
        "retry", help="send permanently failed alerts again, after fixing their cause"
    )
    retry.add_argument("--channel", help="only the alerts for this channel")
    retry.set_defaults(handler=cmd_retry)

    preview = commands.add_parser(
        "preview", help="what the current watchlists match among stored recent articles"
    )
    preview.add_argument("watchlist", nargs="?", metavar="WATCHLIST", help="only this watchlist")
    preview.add_argument("--since", type=_duration_arg, default="7d", help="how far back (default: 7d)")
    preview.add_argument("--json", action="store_true", help="print JSON instead of text")
    preview.set_defaults(handler=cmd_preview)
    backfill = commands.add_parser("backfill", help="post what the current watchlists match among stored "
                                   "articles that were never alerted")  # fmt: skip
    backfill.add_argument("--since", type=_duration_arg, required=True, help="how far back, e.g. 24h")
    backfill.set_defaults(handler=cmd_backfill)

    digest = commands.add_parser(
        "digest", help="show the digest a `delivery: digest` watchlist would get now (--send: send it)"
    )
    digest.add_argument("--watchlist", metavar="NAME", help="only this watchlist")
    digest.add_argument("--send", action="store_true", help="queue and send it now; the next starts here")
    digest.set_defaults(handler=cmd_digest)

    extract = commands.add_parser("extract", help="print the extracted article of a file or URL as JSON")
    extract.add_argument("source", metavar="FILE_OR_URL")
    extract.add_argument("--url", help="the page's original URL, when SOURCE is a saved file")
    extract.set_defaults(handler=cmd_extract)

    match = commands.add_parser("match", help="show which watchlists and terms match a file or URL")
    match.add_argument("source", metavar="FILE_OR_URL")
    match.add_argument("--url", help="the page's original URL, when SOURCE is a saved file")
    match.add_argument("--json", action="store_true", help="print JSON instead of text")
    match.set_defaults(handler=cmd_match)
    _add_watch_commands(commands)
    _add_schema_command(commands)
    _accept_config_after_commands(parser)
    return parser


def _accept_config_after_commands(parser: argparse.ArgumentParser) -> None:
    """`news-monitor status --config x.yaml` as well as `news-monitor --config x.yaml status`.

    The commands' own --config has no default (SUPPRESS), so when it is not given the value read
    before the command (or the default) stays."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for command in action.choices.values():
            command.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                                 help="monitor.yaml (also accepted before the command)")  # fmt: skip
            _accept_config_after_commands(command)


_WATCH_EPILOG = """\
add and remove edit the file that `watchlists:` in --config names (or --config
itself when the watchlists are inline), keeping its comments, order and
formatting. The whole configuration is validated first: an edit that would make
it invalid is refused and nothing is written. The file is replaced atomically,
so a running `news-monitor run` picks the change up within seconds.

Exit codes: 0 done; 2 refused (unknown watchlist or term, duplicate term, no
--yes, invalid result) or invalid configuration; 1 the file cannot be written."""


def _add_watch_commands(commands: Any) -> None:
    watch = commands.add_parser(
        "watch",
        help="list, add and remove watchlist terms from the command line",
        description="List, add and remove watchlist terms.",
        epilog=_WATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the watchlists: channel, terms, aliases, case, excludes")
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")
    listing.set_defaults(handler=cmd_watch_list)

    add = actions.add_parser(
        "add",
        help="add a term to a watchlist",
        description="Add TERM to WATCHLIST. A watchlist that does not exist is created only\n"
        "with --create or --channel: a typo in its name is refused, naming close ones.",
        epilog=_WATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("watchlist", metavar="WATCHLIST", help="the watchlist's name")
    add.add_argument("term", metavar="TERM", help="whole words; use -- before a TERM that starts with -")
    add.add_argument(
        "--alias", action="append", default=[], metavar="ALIAS", help="another spelling; repeatable"
    )
    add.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PHRASE",
        help="a phrase that does not count; repeatable",
    )
    add.add_argument("--case-sensitive", action="store_true", help="match the exact case (aliases too)")
    add.add_argument("--channel", help="create WATCHLIST if missing, posting to CHANNEL (e.g. '#chips')")
    add.add_argument(
        "--create", action="store_true", help="create WATCHLIST if missing (posting to slack.default_channel)"
    )
    add.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
    add.set_defaults(handler=cmd_watch_add)

    remove = actions.add_parser(
        "remove",
        help="remove a term, or a whole watchlist (with --yes)",
        description="Remove TERM from WATCHLIST; without TERM, remove the whole watchlist (needs --yes).",
        epilog=_WATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    remove.add_argument("watchlist", metavar="WATCHLIST", help="the watchlist's name")
    remove.add_argument("term", nargs="?", metavar="TERM", help="as written in the file (or its regex)")
    remove.add_argument("--yes", action="store_true", help="confirm removing a whole watchlist")
    remove.add_argument("--dry-run", action="store_true", help="print the change as a diff; write nothing")
    remove.set_defaults(handler=cmd_watch_remove)


def _add_schema_command(commands: Any) -> None:
    schema = commands.add_parser(
        "schema",
        help="write JSON Schemas of monitor.yaml and watchlists.yaml, for editors",
        description="Write monitor.schema.json and watchlists.schema.json, generated from the models that "
        "validate the configuration. Editors that read `# yaml-language-server: $schema=...` (VS Code's "
        "YAML extension, JetBrains IDEs) then complete keys and flag mistakes while you type.",
    )
    schema.add_argument(
        "--output", type=Path, metavar="DIR", help="where to write them (default: the folder of --config)"
    )
    schema.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in DIR are missing or out of date",
    )
    schema.set_defaults(handler=cmd_schema)


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    compile_watchlists(config)
    terms = sum(len(w.terms) for w in config.watchlists)
    token = config.slack.token()
    echo(f"{config.path}: OK")
    echo(f"  feeds: {len(config.feeds)}")
    queries = sum(1 for w in config.watchlists if w.query)
    echo(f"  watchlists: {len(config.watchlists)} ({terms} terms, {queries} with a query)")
    echo(f"  storage: {mask_configured_url(config.storage_url)}")
    if token:
        echo(f"  alerts: Slack at {config.slack.resolved_api_url()} (token from ${config.slack.token_env})")
    else:
        echo(f"  alerts: printed to the console (set ${config.slack.token_env} to post to Slack)")
    if not args.online:
        return EXIT_OK
    report = asyncio.run(check_online(config))
    echo("\n".join(report.lines()))
    return EXIT_FAILURE if report.failures else EXIT_OK


def cmd_once(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    report, summary = asyncio.run(with_pipeline(config, _cycle_and_summary))
    echo(f"cycle done: {report.summary() or 'nothing to do'}", err=True)
    echo(summary.line(), err=True)
    failed = report.counts["feeds/failed"]
    if failed:
        echo(
            f"{failed} of {len(config.feeds)} feeds failed; the feed.failed lines above say why",
            err=True,
        )
    # Every feed failing means no cycle happened at all (network down, DNS broken): cron should know.
    return EXIT_FAILURE if failed == len(config.feeds) else EXIT_OK


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


def _duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_preview(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.watchlist and args.watchlist not in {w.name for w in config.watchlists}:
        known = ", ".join(w.name for w in config.watchlists)
        raise ConfigError(
            f"no watchlist named {args.watchlist!r} (watchlists: {known})", path=str(config.path)
        )

    async def run(pipeline: Pipeline) -> list[PreviewRow]:
        return preview(pipeline, pipeline.clock() - args.since, args.watchlist)

    rows = asyncio.run(with_pipeline(config, run))
    if args.json:
        echo_json([r.as_json() for r in rows])
    else:
        echo(render_preview(rows))
    return EXIT_OK


def cmd_backfill(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def run(pipeline: Pipeline) -> list[PreviewRow]:
        pipeline.outbox.start()
        rows = await backfill(pipeline, pipeline.clock() - args.since)
        pipeline.outbox.wake()
        await pipeline.outbox.drain()
        return rows

    rows = asyncio.run(with_pipeline(config, run))
    echo(f"backfill: {len(rows)} article(s) queued and sent" + "".join(f"\n  {r.title}" for r in rows))
    return EXIT_OK


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


def cmd_retry(args: argparse.Namespace) -> int:
    """For fixes no config edit shows (the bot was invited, the channel unarchived): try failed alerts now."""
    config = load_config(args.config)

    async def run(pipeline: Pipeline) -> tuple[int, int, int]:
        requeued = pipeline.storage.requeue_failed(args.channel)
        pipeline.outbox.start()
        stats = await pipeline.outbox.drain()
        return requeued, stats.sent, stats.failed

    requeued, sent, failed = asyncio.run(with_pipeline(config, run))
    echo(f"retry: {requeued} failed alert(s) queued again; {sent} sent, {failed} failed again")
    return EXIT_OK if failed == 0 else EXIT_FAILURE


def cmd_migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for line in migrate_store(config, args.source):
        echo(f"migrate: {line}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    storage = open_storage(config.storage_url)
    try:
        now = utcnow()
        status = build_status(config, storage, now)
    finally:
        storage.close()
    if args.json:
        echo_json(status)
    else:
        echo(render_status(status, now))
    return EXIT_OK


def cmd_stories(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    storage = open_storage(config.storage_url)
    since = utcnow() - args.since
    try:
        stories = build_stories(storage.stories_since(since), include_all=args.all)
    finally:
        storage.close()
    if args.json:
        echo_json(stories)
    else:
        echo(render_stories(stories, since))
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    article = asyncio.run(read_article(args.source, args.url, _optional_config(args.config)))
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


def _optional_config(path: Path) -> Config | None:
    """The config for its per-site rules, when there is a valid one; `extract` works without it."""
    if not path.exists():
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        echo(f"news-monitor: ignoring {path} (invalid: {exc.reason}); no per-site rules apply", err=True)
        return None


def cmd_watch_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.json:
        echo_json(describe_watchlists(config))
    else:
        echo(render_watchlists(config))
    return EXIT_OK


def cmd_watch_add(args: argparse.Namespace) -> int:
    term = NewTerm(args.term, tuple(args.alias), tuple(args.exclude), args.case_sensitive)
    return _edit_watchlists(
        args, lambda file: add_term(file, args.watchlist, term, channel=args.channel, create=args.create)
    )


def cmd_watch_remove(args: argparse.Namespace) -> int:
    def edit(file: WatchlistsFile) -> Edit:
        if args.term is None:  # a dry run shows what --yes would remove
            return remove_watchlist(file, args.watchlist, confirmed=args.yes or args.dry_run)
        return remove_term(file, args.watchlist, args.term)

    return _edit_watchlists(args, edit)


def _edit_watchlists(args: argparse.Namespace, edit: Callable[[WatchlistsFile], Edit]) -> int:
    """Open, edit, validate and save the watchlists; a refused edit writes nothing and exits 2."""
    try:
        file = open_watchlists(args.config)
        change = edit(file)
        diff = save_edit(file, change, dry_run=args.dry_run)
    except WatchEditRefused as exc:
        echo(f"news-monitor: watch: {exc}", err=True)
        return EXIT_CONFIG
    if file.document.reformatted_lines:
        echo(
            f"news-monitor: watch: note: {file.path} mixes indentation styles, so "
            f"{file.document.reformatted_lines} line(s) outside the edit were re-indented too",
            err=True,
        )
    if args.dry_run:
        echo(diff, end="")
        echo("dry run: nothing was written", err=True)
    else:
        echo(f"{change.summary} ({file.path})")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    folder = args.output or args.config.parent
    if args.check:
        stale = stale_schema_files(folder)
        if stale:
            names = ", ".join(str(path) for path in stale)
            echo(
                f"news-monitor: schema: missing or out of date: {names}; run `news-monitor schema`",
                err=True,
            )
            return EXIT_FAILURE
        echo(f"{folder}: the schemas are up to date")
        return EXIT_OK
    for path in write_schema_files(folder):
        echo(f"wrote {path}")
    return EXIT_OK


def echo(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Print what a command says, as every command's human output must be: secrets masked, control and
    bidi characters blanked (feed titles and exception messages reach the operator's terminal)."""
    print(safe_text(text), end=end, file=sys.stderr if err else sys.stdout)


def echo_json(data: Any) -> None:
    """Print `data` as JSON, each string in it masked and neutralised first (masking the JSON text
    afterwards could cut into its quotes)."""
    print(json.dumps(_safe_strings(data), ensure_ascii=False, indent=2))


def _safe_strings(data: Any) -> Any:
    if isinstance(data, str):
        # JSON escapes newlines and tabs itself; C1 controls and bidi marks it would print raw.
        return blank_controls(mask_secrets(data), keep="\n\t")
    if isinstance(data, dict):
        return {key: _safe_strings(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_safe_strings(value) for value in data]
    return data


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
