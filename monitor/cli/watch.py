"""`news-monitor watch list|add|remove|unmute`: the watchlists from the command line, edited in place, and
the outlets muted for them from Slack ("Mute <outlet> for <watchlist>", kept in the store)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..config import Config, load_config
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
from ..logs import safe_line
from ..storage import OutletMute, holds_store, open_storage
from .arguments import Commands
from .output import EXIT_OK, echo, echo_json


def cmd_watch_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    mutes = _outlet_mutes(config)
    if args.json:
        muted: dict[str, list[str]] = {}
        for mute in mutes:
            muted.setdefault(mute.watchlist, []).append(mute.outlet)
        echo_json([{**w, "muted_outlets": muted.get(w["name"], [])} for w in describe_watchlists(config)])
    else:
        echo(render_watchlists(config) + _render_mutes(mutes))
    return EXIT_OK


def cmd_watch_unmute(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    mutes = _outlet_mutes(config)  # no store yet: nothing is muted, and no store is made to say so
    outlet = _muted_outlet(mutes, args.watchlist, args.outlet)
    storage = open_storage(config.storage_url)
    try:
        storage.unmute_outlet(args.watchlist, outlet)
    finally:
        storage.close()
    echo(
        f"unmuted {safe_line(outlet)} for {safe_line(args.watchlist)}: its articles alert for "
        f"{safe_line(args.watchlist)} again"
    )
    return EXIT_OK


def _muted_outlet(mutes: list[OutletMute], watchlist: str, given: str) -> str:
    """The stored name of the outlet muted for the watchlist that `given` names: as stored, or as `watch
    list` shows it. A feed's title may hold invisible or control characters (kept in the store, blanked
    on screen), so the name shown is the one a user types back."""
    names = [m.outlet for m in mutes if m.watchlist == watchlist]
    if given in names:
        return given
    shown = [name for name in names if safe_line(name) == safe_line(given)]
    if len(shown) == 1:
        return shown[0]
    muted = "\n".join(f"  {safe_line(m.watchlist)}  {safe_line(m.outlet)}" for m in mutes) or "  none"
    raise WatchEditRefused(
        f"{safe_line(given)} is not muted for {safe_line(watchlist)} (names are exact, case included); "
        f"muted now (watchlist, outlet):\n{muted}"
    )


def _outlet_mutes(config: Config) -> list[OutletMute]:
    """The outlets muted from Slack; none (and no store made) while there is no store yet."""
    if not holds_store(config.storage_url):
        return []
    storage = open_storage(config.storage_url)
    try:
        return storage.outlet_mutes()
    finally:
        storage.close()


def _render_mutes(mutes: list[OutletMute]) -> str:
    """The outlets muted from Slack, and how to undo each."""
    if not mutes:
        return ""
    lines = ["", "muted outlets:"]
    for mute in mutes:
        when = mute.muted_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"  {safe_line(mute.watchlist)}  {safe_line(mute.outlet)}  (by {mute.muted_by}, {when})")
    lines.append("undo one with: news-monitor watch unmute WATCHLIST OUTLET")
    return "\n".join(lines)


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
    """Open, edit, validate and save the watchlists; a refused edit writes nothing (main exits 2)."""
    file = open_watchlists(args.config)
    change = edit(file)
    diff = save_edit(file, change, dry_run=args.dry_run)
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


_WATCH_EPILOG = """\
add and remove edit the file that `watchlists:` in --config names (or --config
itself when the watchlists are inline), keeping its comments, order and
formatting. The whole configuration is validated first: an edit that would make
it invalid is refused and nothing is written. The file is replaced atomically,
so a running `news-monitor run` picks the change up within seconds.

Exit codes: 0 done; 2 refused (unknown watchlist or term, duplicate term, no
--yes, invalid result) or invalid configuration; 1 the file cannot be written."""


def add_commands(commands: Commands) -> None:
    watch = commands.add_parser(
        "watch",
        help="list, add and remove watchlist terms from the command line",
        description="List, add and remove watchlist terms.",
        epilog=_WATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")
    _add_list_action(actions)
    _add_add_action(actions)
    _add_remove_action(actions)
    _add_unmute_action(actions)


def _add_unmute_action(actions: Commands) -> None:
    unmute = actions.add_parser(
        "unmute",
        help='undo a "Mute <outlet> for <watchlist>" pressed in Slack',
        description="OUTLET's articles alert for WATCHLIST again (on every instance sharing the store).",
    )
    unmute.add_argument("watchlist", metavar="WATCHLIST", help="the watchlist's name")
    unmute.add_argument("outlet", metavar="OUTLET", help="the outlet's name, as `watch list` shows it")
    unmute.set_defaults(handler=cmd_watch_unmute)


def _add_list_action(actions: Commands) -> None:
    listing = actions.add_parser(
        "list", help="the watchlists: channel, terms, aliases, case, excludes; the outlets muted for them"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")
    listing.set_defaults(handler=cmd_watch_list)


def _add_add_action(actions: Commands) -> None:
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


def _add_remove_action(actions: Commands) -> None:
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
