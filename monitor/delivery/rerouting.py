"""Re-routing: an outbox entry goes where its watchlists route now, not where they routed when it was queued.

An alert can wait in the outbox for a long time: Slack was down, or its channel was misspelled and
failed until the operator fixed watchlists.yaml (a configuration change, or `retry`, requeues it). Each
time the sender takes an entry, it asks where the entry's watchlists route under the current
configuration:

- the same channel: it is sent as queued;
- another channel: it moves there and joins what its story has there. The story's alert in that channel
  makes it a reply in that alert's thread (or nothing, when its outlet is in the thread already); an
  entry of the same article there already carries it, and it is dropped;
- no channel (every watchlist of it is gone, or now gets digests): it is dropped, and the log says why;
- several channels (its watchlists now route apart): it goes to one, and new entries go to the others.

A dropped entry keeps its row (status `dropped`, the reason in `error`): preview and backfill count its
article as never alerted, so `backfill` can still post it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..logs import log_event
from ..models import Alert, Digest, StoryReply
from ..storage import OutboxEntry, QueuedAlert, Storage

log = logging.getLogger("monitor.delivery")

_PRIORITIES = ("low", "normal", "high")


@dataclass(frozen=True)
class WatchlistRoute:
    """Where one watchlist's messages go under the current configuration."""

    channel: str
    digest: bool  # `delivery: digest`: a message per schedule, not an alert per story
    priority: str = "normal"
    notify_here: bool = False


@dataclass(frozen=True)
class Routes:
    """Every watchlist's route, by name."""

    watchlists: Mapping[str, WatchlistRoute]

    @classmethod
    def from_config(cls, config: Config) -> Routes:
        return cls(
            {
                w.name: WatchlistRoute(
                    channel=config.channel_for(w),
                    digest=w.delivery == "digest",
                    priority=w.priority,
                    notify_here=w.notify == "here",
                )
                for w in config.watchlists
            }
        )

    def alert_channels(self, names: tuple[str, ...]) -> dict[str, list[str]]:
        """The channels alerts of these watchlists go to now, each with its watchlists, in their order."""
        channels: dict[str, list[str]] = {}
        for name in names:
            route = self.watchlists.get(name)
            if route is not None and not route.digest:
                channels.setdefault(route.channel, []).append(name)
        return channels

    def why_gone(self, names: tuple[str, ...]) -> str:
        """Why none of these watchlists takes alerts any more."""
        listed = ", ".join(names)
        if any(name in self.watchlists for name in names):
            return f"its watchlist(s) {listed} now get digests instead of alerts"
        return f"its watchlist(s) {listed} are no longer in the configuration"


class Router:
    """Decides, and records in the store, where an outbox entry goes now (see the module docstring)."""

    def __init__(self, storage: Storage, routes: Routes, clock: Callable[[], datetime]):
        self.storage = storage
        self.routes = routes
        self.clock = clock

    def route(self, entry: OutboxEntry) -> OutboxEntry | None:
        """The entry as it is to be sent now, or None when it was dropped."""
        if entry.ts is not None:
            return entry  # a reply already in its thread, waiting to update the alert: it stays there
        if entry.kind == "digest":
            return self._route_digest(entry)
        if entry.kind == "refresh":
            return entry  # rewrites an alert where it is

        alert = self._alert_of(entry)
        if alert is None or not alert.watchlists:
            return entry  # written before replies carried their alert: nothing to route by
        channels = self.routes.alert_channels(alert.watchlists)
        if not channels:
            return self._drop(entry, self.routes.why_gone(alert.watchlists))
        if set(channels) == {entry.channel} and self._thread_holds(entry):
            return entry
        # It stays in its channel if its watchlists still route there; other channels get new entries.
        ordered = sorted(channels, key=lambda channel: channel != entry.channel)
        for channel in ordered[1:]:
            self._add(entry, self._alert_for(alert, channel, channels[channel]))
        return self._move(entry, self._alert_for(alert, ordered[0], channels[ordered[0]]))

    @staticmethod
    def _alert_of(entry: OutboxEntry) -> Alert | None:
        if entry.kind == "reply":
            reply = StoryReply.from_json(entry.payload)
            return Alert.from_json(reply.alert, article_id=entry.article_id) if reply.alert else None
        return Alert.from_json(entry.payload, article_id=entry.article_id)

    def _thread_holds(self, entry: OutboxEntry) -> bool:
        """An alert has no thread to lose; a reply's alert must still be in its channel, and be sent."""
        if entry.kind != "reply" or entry.parent_id is None:
            return True
        parent = self.storage.outbox_entry(entry.parent_id)
        return parent is not None and parent.status != "dropped" and parent.channel == entry.channel

    def _alert_for(self, alert: Alert, channel: str, names: list[str]) -> Alert:
        """The alert as the watchlists routed to `channel` make it (their priority, their @here)."""
        routes = [self.routes.watchlists[name] for name in names]
        return dataclasses.replace(
            alert,
            channel=channel,
            watchlists=tuple(names),
            priority=max((route.priority for route in routes), key=_PRIORITIES.index),
            notify_here=any(route.notify_here for route in routes),
        )

    def _message(self, entry: OutboxEntry, alert: Alert) -> QueuedAlert | str:
        """What the entry becomes in `alert.channel`, given what its story has there; or why nothing."""
        channel = alert.channel
        if entry.article_id is not None and channel != entry.channel:
            there = self.storage.entry_for(entry.article_id, channel)
            if there is not None and there.id != entry.id and there.status != "dropped":
                return f"merged: the article's message {there.id} in {channel} carries it"
        thread = (
            self.storage.story_thread(entry.story_id, channel, excluding=entry.id)
            if entry.story_id is not None
            else None
        )
        if thread is None:
            return QueuedAlert(channel, alert.to_json())
        reply = StoryReply(
            channel=channel,
            story_id=int(entry.story_id or 0),
            outlet=alert.source,
            title=alert.article.title,
            url=alert.article.canonical_url or alert.article.url,
            alert=alert.to_json(),
            update=alert.source in thread.outlets,  # as stories/desk.py does: never silence
        )
        return QueuedAlert(channel, reply.to_json(), kind="reply", parent_id=thread.alert_id)

    def _move(self, entry: OutboxEntry, alert: Alert) -> OutboxEntry | None:
        message = self._message(entry, alert)
        if isinstance(message, str):
            return self._drop(entry, message)
        moved = dataclasses.replace(
            entry, channel=message.channel, payload=message.payload, kind=message.kind,
            parent_id=message.parent_id,
        )  # fmt: skip
        if moved == entry:
            return entry
        if not self.storage.reroute_alert(entry.id, channel=moved.channel, payload=moved.payload,
                                          kind=moved.kind, parent_id=moved.parent_id):  # fmt: skip
            return self._drop(entry, f"merged: the article has a message in {moved.channel} already")
        log_event(log, logging.INFO, "alert.rerouted", alert_id=entry.id, from_channel=entry.channel,
                  to_channel=moved.channel, kind=moved.kind,
                  reason="where its watchlists route now")  # fmt: skip
        return moved

    def _add(self, entry: OutboxEntry, alert: Alert) -> None:
        message = self._message(entry, alert)
        if isinstance(message, str) or entry.article_id is None:
            return
        for added in self.storage.add_alerts(entry.article_id, entry.story_id, [message], self.clock()):
            log_event(log, logging.INFO, "alert.rerouted", alert_id=added.id, from_channel=entry.channel,
                      to_channel=added.channel, kind=added.kind,
                      reason="its watchlists now route to more than one channel")  # fmt: skip

    def _route_digest(self, entry: OutboxEntry) -> OutboxEntry | None:
        digest = Digest.from_json(entry.payload)
        routes = [self.routes.watchlists.get(name) for name in digest.watchlists]
        channels = [route.channel for route in routes if route is not None and route.digest]
        if not channels:
            names = ", ".join(digest.watchlists)
            return self._drop(entry, f"its watchlist(s) {names} no longer get digests")
        if entry.channel in channels:
            return entry
        payload = dataclasses.replace(digest, channel=channels[0]).to_json()
        self.storage.reroute_alert(
            entry.id, channel=channels[0], payload=payload, kind="digest", parent_id=None
        )
        log_event(log, logging.INFO, "digest.rerouted", alert_id=entry.id, from_channel=entry.channel,
                  to_channel=channels[0], reason="where its watchlist routes now")  # fmt: skip
        return dataclasses.replace(entry, channel=channels[0], payload=payload)

    def _drop(self, entry: OutboxEntry, reason: str) -> OutboxEntry | None:
        """Never to be sent, with the reason kept in the store and logged; None, for `route`."""
        self.storage.drop_alert(entry.id, reason=reason)
        log_event(log, logging.WARNING, f"{entry.kind}.dropped", alert_id=entry.id, channel=entry.channel,
                  reason=reason)  # fmt: skip
        return None
