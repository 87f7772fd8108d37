"""The `news-monitor` command: the parser built from the command groups, the global options, dispatch,
and the only place that turns errors into exit codes and messages.

Exit codes: 0 success, 1 a runtime failure (storage, network for `extract`), 2 invalid configuration or
usage, 130 interrupted, 141 the reader of the output went away (`news-monitor status | head`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import __version__
from ..config import DEFAULT_CONFIG_PATH
from ..config.feeds_edit import FeedEditRefused
from ..config.watch_edit import WatchEditRefused
from ..errors import ConfigError, MonitorError
from ..logs import configure_logging
from . import admin, check, digest, feeds, inspect, review, schema, service, status, stories, tune, watch
from .arguments import Commands
from .output import EXIT_BROKEN_PIPE, EXIT_CONFIG, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, echo

# Names monitor.yaml when --config is not given (a container or a systemd unit sets it once).
CONFIG_ENV = "NEWS_MONITOR_CONFIG"

# Each group adds its commands; `news-monitor --help` lists them in this order.
_COMMAND_GROUPS: tuple[Callable[[Commands], None], ...] = (
    check.add_commands,  # check
    service.add_commands,  # once, run
    admin.add_migrate_command,
    status.add_commands,
    stories.add_commands,
    admin.add_retry_command,
    review.add_commands,  # preview, backfill
    digest.add_commands,
    inspect.add_commands,  # extract, match
    watch.add_commands,  # watch list|add|remove
    tune.add_commands,  # tune
    feeds.add_commands,  # feeds discover|add|list|remove|test
    schema.add_commands,
)


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
    except WatchEditRefused as exc:  # a `watch` edit refused: nothing was written
        echo(f"news-monitor: watch: {exc}", err=True)
        return EXIT_CONFIG
    except FeedEditRefused as exc:  # a `feeds` edit refused: nothing was written
        echo(f"news-monitor: feeds: {exc}", err=True)
        return EXIT_CONFIG
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
    for add_commands in _COMMAND_GROUPS:
        add_commands(commands)
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


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
