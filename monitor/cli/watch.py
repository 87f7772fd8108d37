"""`news-monitor watch list|add|remove`: the watchlists from the command line, edited in place."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..config.model import load_config
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
from .output import EXIT_CONFIG, EXIT_OK, echo, echo_json


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
