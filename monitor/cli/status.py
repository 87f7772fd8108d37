"""`news-monitor status`: the feeds (last poll, result, next poll, errors) and the outbox, from the store."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..config import Config, load_config
from ..logs import safe_line
from ..pipeline.feed_cycle import utcnow
from ..redact import mask_configured_url, mask_secrets
from ..stages.feed_kind import kind_label
from ..storage import FeedState, Instance, OutboxEntry, SearchState, Storage, open_storage
from ..text import cut
from .arguments import Commands
from .output import EXIT_OK, echo, echo_json


def build_status(config: Config, storage: Storage, now: datetime) -> dict[str, Any]:
    """Everything `status` shows, as plain data (the --json output)."""
    states = {state.url: state for state in storage.feed_states()}
    feeds = [_feed_status(feed.url, feed.name, states.get(feed.url), now) for feed in config.feeds]
    counts = storage.outbox_counts()
    failed = storage.outbox_entries(("failed",))
    pending = storage.outbox_entries(("pending",))
    return {
        "feeds": feeds,
        "instances": [_instance_status(instance, config, now) for instance in storage.instances(now)],
        "search": _search_status(config, storage),
        "outbox": {
            "pending": counts.get("pending", 0),
            "sent": counts.get("sent", 0),
            "printed": counts.get("printed", 0),
            "failed": counts.get("failed", 0),
            "pending_alerts": [_alert_status(entry, now) for entry in pending],
            "failed_alerts": [_alert_status(entry, now) for entry in failed],
        },
    }


def _feed_status(url: str, name: str | None, state: FeedState | None, now: datetime) -> dict[str, Any]:
    # A feed URL may carry `user:token@` or `?api_key=`; a title stored before titles were derived from
    # the masked URL may be that URL itself.
    if state is None:
        return {"url": mask_configured_url(url), "name": name, "state": "never polled", "kind": None}
    return {
        "url": mask_configured_url(url),
        "name": name or (mask_secrets(state.title) if state.title else None),
        "kind": state.kind,  # what the URL served at its last successful poll (stages/feed_kind.py)
        "state": "disabled" if state.disabled_reason else ("failing" if state.consecutive_failures else "ok"),
        "last_poll": _iso(state.last_polled_at),
        "last_success": _iso(state.last_success_at),
        "result": state.last_error if state.consecutive_failures else state.last_result,
        "next_poll": _iso(state.next_poll_at),
        "consecutive_failures": state.consecutive_failures,
        "disabled_reason": state.disabled_reason,
        "moved_to": state.moved_to,
    }


def _search_status(config: Config, storage: Storage) -> list[dict[str, Any]]:
    """Each configured search provider's counters (since the store was made) and its last error."""
    states = {state.provider: state for state in storage.search_states()}
    providers = config.search.providers if config.search else []
    return [_provider_status(name, states.get(name)) for name in providers]


def _provider_status(name: str, state: SearchState | None) -> dict[str, Any]:
    if state is None:
        return {"provider": name, "state": "never searched"}
    failing = "circuit open" if state.incident_since else ("failing" if state.consecutive_failures else "ok")
    return {
        "provider": name,
        "state": failing,
        "last_round": _iso(state.last_round_at),
        "next_round": _iso(state.next_round_at),
        "queries": state.queries,
        "hits": state.hits,
        "new_articles": state.new_articles,
        "alerts": state.alerts,
        "errors": state.errors,
        "consecutive_failures": state.consecutive_failures,
        "last_error": mask_secrets(state.last_error) if state.last_error else None,
        "last_error_at": _iso(state.last_error_at),
    }


def _instance_status(instance: Instance, config: Config, now: datetime) -> dict[str, Any]:
    # Renewals come every third of a lease; an instance silent for a whole lease has lost its claims.
    alive = now - instance.seen_at <= config.fleet.lease
    return {
        "id": instance.id,
        "host": instance.host,
        "pid": instance.pid,
        "version": instance.version,
        "state": "alive" if alive else "silent (dead, or cut off from the store)",
        "started": _iso(instance.started_at),
        "last_seen": _iso(instance.seen_at),
        "feeds_held": instance.feeds_held,
        "alerts_held": instance.alerts_held,
    }


def _alert_status(entry: OutboxEntry, now: datetime) -> dict[str, Any]:
    return {
        "id": entry.id,
        "channel": entry.channel,
        "title": _title(entry.payload),
        "attempts": entry.attempts,
        "error": entry.error,
        "next_attempt": _iso(entry.next_attempt_at),
        "queued": _iso(entry.created_at),
    }


def _title(payload: str) -> str:
    """What an outbox entry is about: an alert's title, a thread reply's outlet and title, or a digest."""
    try:
        data = json.loads(payload)
        if "article" in data:
            return str(data["article"]["title"])
        if "outlet" in data:
            return f"reply ({data['outlet']}): {data['title']}"
        return f"digest ({', '.join(data.get('watchlists', [])) or '?'})"
    except (ValueError, KeyError, TypeError, AttributeError):
        return "?"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def render_status(status: dict[str, Any], now: datetime) -> str:
    """The status as text tables for a terminal."""
    feeds = _feed_table(status["feeds"], now) if status["feeds"] else "  no feeds configured"
    lines = ["FEEDS", feeds]
    if _overdue(status["feeds"], now) and not any(i["state"] == "alive" for i in status["instances"]):
        lines.append("  overdue: no `news-monitor run` is alive on this store, so nothing polls these feeds")
    lines.append("")
    if status["search"]:
        lines += ["SEARCH", _search_table(status["search"], now), ""]
    if status["instances"]:
        lines += ["INSTANCES", _instance_table(status["instances"], now), ""]
    outbox = status["outbox"]
    printed = f" · printed to the console {outbox['printed']}" if outbox["printed"] else ""
    lines.append(
        f"OUTBOX  pending {outbox['pending']} · sent {outbox['sent']} · failed {outbox['failed']}{printed}"
    )
    for alert in outbox["pending_alerts"][:20]:
        when = _relative(alert["next_attempt"], now) or "now"
        note = f" (attempt {alert['attempts']}, {_cell(alert['error'])})" if alert["error"] else ""
        channel, title = _cell(alert["channel"]), _cell(alert["title"], 60)
        lines.append(f"  pending {channel} {title!r} next try {when}{note}")
    for alert in outbox["failed_alerts"][:20]:
        channel, title = _cell(alert["channel"]), _cell(alert["title"], 60)
        lines.append(f"  FAILED  {channel} {title!r}: {_cell(alert['error'])}")
    if outbox["failed_alerts"]:
        lines.append("  (after fixing the cause: `news-monitor retry`; a config edit retries them too)")
    hidden = max(len(outbox["pending_alerts"]) - 20, 0) + max(len(outbox["failed_alerts"]) - 20, 0)
    if hidden:
        lines.append(f"  ... and {hidden} more (see --json)")
    return "\n".join(lines)


def _instance_table(instances: list[dict[str, Any]], now: datetime) -> str:
    header = ("INSTANCE", "STATE", "VERSION", "STARTED", "LAST SEEN", "POLLING", "SENDING")
    rows = [header] + [
        (
            _cell(instance["id"]),
            instance["state"].split(" ")[0],
            _cell(instance["version"]),
            _relative(instance["started"], now) or "-",
            _relative(instance["last_seen"], now) or "-",
            f"{instance['feeds_held']} feeds",
            f"{instance['alerts_held']} alerts",
        )
        for instance in instances
    ]
    return _table(rows)


def _search_table(providers: list[dict[str, Any]], now: datetime) -> str:
    header = ("PROVIDER", "STATE", "LAST ROUND", "NEXT ROUND", "QUERIES", "HITS", "NEW", "ALERTS", "ERRORS",
              "LAST ERROR")  # fmt: skip
    rows = [header] + [
        (
            _cell(p["provider"]),
            p["state"],
            _relative(p.get("last_round"), now) or "-",
            _next_poll(p.get("next_round"), now),
            *(str(p.get(name, 0)) for name in ("queries", "hits", "new_articles", "alerts", "errors")),
            _cell(p.get("last_error"), 60) or "-",
        )
        for p in providers
    ]
    return _table(rows)


def _feed_table(feeds: list[dict[str, Any]], now: datetime) -> str:
    header = ("FEED", "KIND", "STATE", "LAST POLL", "RESULT", "NEXT POLL", "ERRORS")
    rows = [header]
    for feed in feeds:
        result = feed.get("result") or ""
        if feed.get("moved_to"):
            result += f" (moved to {feed['moved_to']})"
        rows.append(
            (
                _cell(feed.get("name") or feed["url"], 40),
                kind_label(feed["kind"]) if feed.get("kind") else "-",
                feed["state"],
                _relative(feed.get("last_poll"), now) or "-",
                _cell(result, 60),
                _next_poll(feed.get("next_poll"), now),
                str(feed.get("consecutive_failures", 0)),
            )
        )
    return _table(rows)


# A running service starts a due poll within a tick (a second); a poll this late is not being started.
DUE_NOW_SECONDS = 60.0


def _next_poll(iso: str | None, now: datetime) -> str:
    """`in 5m`, `due now`, or `overdue by 11m` when nothing has polled the feed since it was due (a
    stopped service): a past time read as "11m ago" looks like a poll that happened."""
    if not iso:
        return "-"
    late = (now - datetime.fromisoformat(iso)).total_seconds()
    if late <= 0:
        return _relative(iso, now) or "-"
    return "due now" if late < DUE_NOW_SECONDS else f"overdue by {_span(late)}"


def _overdue(feeds: list[dict[str, Any]], now: datetime) -> bool:
    return any(_next_poll(feed.get("next_poll"), now).startswith("overdue") for feed in feeds)


def _cell(text: str | None, width: int | None = None) -> str:
    """A value from the store or a feed as one table cell: one line, no control characters, no
    secrets, masked before it is cut (a URL cut before its `@` no longer looks like credentials)."""
    line = safe_line(str(text or ""))
    return cut(line, width) if width else line


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _relative(iso: str | None, now: datetime) -> str | None:
    """`3m ago` / `in 5m` for a stored time."""
    if not iso:
        return None
    seconds = (datetime.fromisoformat(iso) - now).total_seconds()
    text = _span(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _span(seconds: float) -> str:
    """90s, 11m, 2.5h: a length of time for a table cell."""
    if seconds < 90:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m" if seconds < 5400 else f"{seconds / 3600:.1f}h"


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


def add_commands(commands: Commands) -> None:
    status = commands.add_parser(
        "status", help="show feeds (last poll, result, next poll, errors) and the outbox"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    status.set_defaults(handler=cmd_status)
