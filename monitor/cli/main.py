"""The `news-monitor` command: the only place that turns errors into exit codes and messages.

Exit codes: 0 success, 1 a runtime failure (storage, network for `extract`), 2 invalid configuration or
usage, 130 interrupted, 141 the reader of the output went away (`news-monitor status | head`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from .. import __version__
from ..config.model import DEFAULT_CONFIG_PATH, parse_duration
from ..errors import ConfigError, MonitorError
from ..logs import configure_logging
from .admin import cmd_migrate, cmd_retry
from .check import cmd_check
from .digest import cmd_digest
from .inspect import cmd_extract, cmd_match
from .output import EXIT_BROKEN_PIPE, EXIT_CONFIG, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, echo
from .review import cmd_backfill, cmd_preview
from .schema import cmd_schema
from .service import cmd_once, cmd_run
from .status import cmd_status
from .stories import cmd_stories
from .watch import cmd_watch_add, cmd_watch_list, cmd_watch_remove

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


def _duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
