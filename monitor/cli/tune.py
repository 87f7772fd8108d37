"""`news-monitor tune [WATCHLIST] [--since 30d] [--json] [--apply N|ID]`: the feedback given with the buttons
on alerts, per watchlist (alerts, relevant / not relevant, precision), and the edits that would have removed
the alerts judged not relevant, each with its YAML diff and its backtest; --apply makes one, named by its
number in the list or by its id (from its content, so that an id never names another edit)."""

from __future__ import annotations

import argparse
import difflib
import re
from datetime import UTC, datetime
from typing import Any

from ..config import Config, load_config
from ..config.tune_edit import tune_watchlist
from ..config.watch_edit import WatchEditRefused, open_watchlists, save_edit
from ..feedback.alerted import WatchlistAlerts, alerts_by_watchlist
from ..feedback.suggest import Suggestion, suggest
from ..logs import safe_line
from ..storage import holds_store, open_storage
from .arguments import Commands, duration_arg
from .output import EXIT_OK, echo, echo_json


def cmd_tune(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    _require_known(config, args.watchlist)
    since = datetime.now(UTC) - args.since
    found = _alerts(config, since, args.watchlist)
    suggestions = [(alerts, s) for alerts in found for s in suggest(alerts)]
    if args.apply is not None:
        return _apply(args, [s for _, s in suggestions])
    diffs = [_diff(args, s) for _, s in suggestions]
    if args.json:
        echo_json(_as_json(found, suggestions, diffs, since))
    else:
        echo(_render(found, suggestions, diffs, since))
    return EXIT_OK


def _require_known(config: Config, name: str | None) -> None:
    names = [w.name for w in config.watchlists]
    if name is not None and name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = (
            f"did you mean {' or '.join(map(repr, close))}?" if close else f"watchlists: {', '.join(names)}"
        )
        raise WatchEditRefused(f"no watchlist named {safe_line(name)!r} in the configuration; {hint}")


def _alerts(config: Config, since: datetime, only: str | None) -> list[WatchlistAlerts]:
    if not holds_store(config.storage_url):  # no store yet: no alerts, and none is created to say so
        return [
            WatchlistAlerts(w, config.channel_for(w)) for w in config.watchlists if only in (None, w.name)
        ]
    storage = open_storage(config.storage_url)
    try:
        return alerts_by_watchlist(storage, config, since, only)
    finally:
        storage.close()


def _diff(args: argparse.Namespace, suggestion: Suggestion) -> str:
    """The suggestion as a diff of the watchlists file, validated (nothing is written)."""
    file = open_watchlists(args.config)
    change = suggestion.change
    edit = tune_watchlist(file, suggestion.watchlist, change.kind, change.term, change.value)
    return save_edit(file, edit, dry_run=True)


def _apply(args: argparse.Namespace, suggestions: list[Suggestion]) -> int:
    number, suggestion = _chosen(args.apply, suggestions)
    file = open_watchlists(args.config)
    change = suggestion.change
    edit = tune_watchlist(file, suggestion.watchlist, change.kind, change.term, change.value)
    diff = save_edit(file, edit)
    name = safe_line(suggestion.watchlist)
    echo(f"applied suggestion {number} [{suggestion.id}] for {name}: {safe_line(change.describe())}")
    echo(f"backtest now: {_backtest_text(suggestion)}")
    echo(diff.rstrip("\n"))
    echo(f"{edit.summary} ({file.path})")
    return EXIT_OK


def _chosen(selector: str, suggestions: list[Suggestion]) -> tuple[int, Suggestion]:
    """Suggestion N (1-based, as listed now), or the one whose id is `selector`."""
    if re.fullmatch(r"\d{1,5}", selector):  # an id has six characters: a shorter number is a place
        number = int(selector)
        if not 1 <= number <= len(suggestions):
            listed = f"1 to {len(suggestions)}" if suggestions else "none: there is nothing to apply"
            raise WatchEditRefused(
                f"there is no suggestion {number} (suggestions now: {listed}); run tune first"
            )
        return number, suggestions[number - 1]
    found = [(n, s) for n, s in enumerate(suggestions, 1) if s.id == selector.strip().lower()]
    if not found:
        raise WatchEditRefused(
            f"no current suggestion has the id {safe_line(selector)!r}: the feedback or the watchlists have "
            f"changed since it was listed (or it is mistyped); run tune again and apply one it lists"
        )
    return found[0]


def _headline(alerts: WatchlistAlerts, since: datetime) -> str:
    name, count = safe_line(alerts.watchlist.name), len(alerts.articles)
    head = f"{name}: {count} alert(s) since {since:%Y-%m-%d}"
    if not alerts.judged:
        return f"{head}; no feedback yet (press Relevant or Not relevant on its alerts): nothing to tune"
    precision = alerts.precision or 0.0
    return (
        f"{head}; feedback on {alerts.judged}: {alerts.relevant} relevant, "
        f"{alerts.not_relevant} not relevant; "
        f"precision {precision:.0%} ({alerts.relevant}/{alerts.judged})"
    )


def _render(
    found: list[WatchlistAlerts], suggestions: list[tuple[WatchlistAlerts, Suggestion]], diffs: list[str],
    since: datetime,
) -> str:  # fmt: skip
    lines = []
    for alerts in found:
        lines.append(_headline(alerts, since))
        numbered = [
            (n, s, d) for n, ((a, s), d) in enumerate(zip(suggestions, diffs, strict=True), 1) if a is alerts
        ]
        if alerts.not_relevant and not numbered:
            lines.append("  no edit would remove its not-relevant alerts without losing relevant ones")
        for number, suggestion, diff in numbered:
            lines.append(
                f"  {number}. [{suggestion.id}] {safe_line(suggestion.change.describe())}: "
                f"{_backtest_text(suggestion)}"
            )
            lines += _unjudged_lines(suggestion)
            lines += [f"     {line}" for line in diff.splitlines()]
    if suggestions:
        lines.append(
            "apply one with: news-monitor tune --apply ID (its [id]; or --apply N with the same WATCHLIST "
            "and --since)"
        )
    return "\n".join(lines)


def _backtest_counts(suggestion: Suggestion) -> dict[str, int]:
    b = suggestion.backtest
    return {"kept": b.kept, "removed": b.removed, "not_relevant_removed": b.not_relevant_removed,
            "relevant_lost": b.relevant_lost}  # fmt: skip


def _unjudged_lines(suggestion: Suggestion, shown: int = 5) -> list[str]:
    """The headlines of the alerts nobody judged that the edit would remove (at most `shown`)."""
    titles = suggestion.backtest.unjudged_removed
    lines = [f"     also removes, not judged: {safe_line(title)}" for title in titles[:shown]]
    if len(titles) > shown:
        lines.append(f"     and {len(titles) - shown} more not judged")
    return lines


def _backtest_text(suggestion: Suggestion) -> str:
    b = suggestion.backtest
    return (
        f"removes {b.removed} alert(s) ({b.not_relevant_removed} not relevant), keeps {b.kept}, "
        f"relevant lost: {b.relevant_lost}"
    )


def _as_json(
    found: list[WatchlistAlerts], suggestions: list[tuple[WatchlistAlerts, Suggestion]], diffs: list[str],
    since: datetime,
) -> dict[str, Any]:  # fmt: skip
    listed = [
        {"number": n, "id": s.id, "watchlist": s.watchlist, "kind": s.change.kind, "term": s.change.term,
         "value": s.change.value, "description": s.change.describe(), "diff": d,
         "backtest": _backtest_counts(s), "unjudged_removed": list(s.backtest.unjudged_removed)}
        for n, ((_, s), d) in enumerate(zip(suggestions, diffs, strict=True), 1)
    ]  # fmt: skip
    watchlists = [
        {"name": a.watchlist.name, "alerts": len(a.articles), "judged": a.judged, "relevant": a.relevant,
         "not_relevant": a.not_relevant, "precision": a.precision}
        for a in found
    ]  # fmt: skip
    return {"since": since.isoformat(), "watchlists": watchlists, "suggestions": listed}


def add_commands(commands: Commands) -> None:
    tune = commands.add_parser(
        "tune",
        help="precision per watchlist from the Relevant / Not relevant buttons, and edits that would help",
        description="For each watchlist (or WATCHLIST): its alerts since --since, the feedback on them and "
        "its precision; then edits that would have removed the alerts judged not relevant (an exclude "
        "phrase, min_mentions, case_sensitive, or a query: with the terms NEAR/n each other or a term in the "
        "title:), each with a diff and a backtest on the stored articles, best first, numbered and with an "
        "id. --apply writes one (validated first, comments kept) and prints what it wrote.",
    )
    tune.add_argument("watchlist", nargs="?", metavar="WATCHLIST", help="only this watchlist")
    tune.add_argument("--since", type=duration_arg, default="30d", help="how far back (default: 30d)")
    tune.add_argument("--json", action="store_true", help="print JSON instead of text")
    tune.add_argument(
        "--apply",
        metavar="N|ID",
        help="write suggestion N as listed now (same WATCHLIST and --since), or the one with this id as "
        "listed (refused when it is no longer suggested)",
    )
    tune.set_defaults(handler=cmd_tune)
