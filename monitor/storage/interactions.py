"""The buttons on alerts: interactions recorded once (however often Slack delivers one, to however many
instances), the story and outlet mutes they make, and the feedback read back for the alert, `watch list`,
/metrics and `tune`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.engine import Connection

from ..models import AlertMark
from . import schema
from .common import dialect_insert, storage_errors
from .records import Interaction, Judgement, OutletMute

JUDGEMENTS = ("relevant", "not_relevant")


class InteractionQueries:
    """Mixin of SQLStorage: the interactions, story_mutes and outlet_mutes tables."""

    engine: Engine

    def record_interaction(self, interaction: Interaction, *, at: datetime) -> bool:
        """Store the interaction (a row per watchlist), make the mute it asks for and queue the alert's
        rewrite (an outbox `refresh`), in one transaction. False when it was stored before (Slack's
        retry, or another instance's copy): then nothing at all is done, twice or otherwise."""
        with storage_errors("record an interaction with an alert"), self.engine.begin() as conn:
            stored = 0
            for watchlist in interaction.watchlists or ("",):
                statement = dialect_insert(conn, schema.interactions).values(_row(interaction, watchlist))
                # RETURNING, not rowcount: what PostgreSQL's driver counts for a skipped row varies.
                inserted = statement.on_conflict_do_nothing().returning(schema.interactions.c.id)
                stored += len(conn.execute(inserted).all())
            if not stored:
                return False
            _make_mutes(conn, interaction)
            if not _refresh_waiting(conn, interaction.alert_id):
                conn.execute(
                    insert(schema.alerts).values(
                        kind="refresh", channel=interaction.channel, payload="{}", status="pending",
                        parent_id=interaction.alert_id, story_id=interaction.story_id, created_at=at,
                        attempts=0, dedup_key=f"refresh:{interaction.key}",
                    )
                )  # fmt: skip
        return True

    def story_muted(self, story_id: int, channel: str) -> bool:
        table = schema.story_mutes
        query = select(table.c.story_id).where(table.c.story_id == story_id, table.c.channel == channel)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def muted_watchlists(self, outlet: str) -> frozenset[str]:
        """The watchlists the outlet is muted for (an indexed lookup: once per matched article)."""
        table = schema.outlet_mutes
        with self.engine.connect() as conn:
            names = conn.execute(select(table.c.watchlist).where(table.c.outlet == outlet)).scalars()
            return frozenset(names)

    def outlet_mutes(self) -> list[OutletMute]:
        table = schema.outlet_mutes
        query = select(table.c.outlet, table.c.watchlist, table.c.muted_at, table.c.muted_by)
        with storage_errors("read the muted outlets"), self.engine.connect() as conn:
            rows = conn.execute(query.order_by(table.c.watchlist, table.c.outlet)).all()
        return [OutletMute(row.outlet, row.watchlist, row.muted_at, row.muted_by) for row in rows]

    def unmute_outlet(self, watchlist: str, outlet: str) -> bool:
        """False when the outlet was not muted for the watchlist."""
        table = schema.outlet_mutes
        with storage_errors("unmute an outlet"), self.engine.begin() as conn:
            gone = conn.execute(delete(table).where(table.c.watchlist == watchlist, table.c.outlet == outlet))
        return bool(gone.rowcount)

    def alert_marks(self, alert_id: int) -> list[AlertMark]:
        """What was done with the alert's buttons, in order: one mark per interaction (its watchlists
        together)."""
        table = schema.interactions
        query = (
            select(table.c.dedup_key, table.c.action, table.c.user_id, table.c.outlet, table.c.watchlist)
            .where(table.c.alert_id == alert_id)
            .order_by(table.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        marks: dict[str, AlertMark] = {}
        for row in rows:
            mark = marks.get(row.dedup_key)
            watchlists = (*mark.watchlists, row.watchlist) if mark else (row.watchlist,)
            marks[row.dedup_key] = AlertMark(row.action, row.user_id, row.outlet or "", watchlists)
        return list(marks.values())

    def interaction_counts(self) -> dict[tuple[str, str], int]:
        """Interactions by (action, watchlist), the whole fleet's."""
        table = schema.interactions
        keys = (table.c.action, table.c.watchlist)
        query = select(*keys, func.count()).group_by(*keys)
        with self.engine.connect() as conn:
            return {(row[0], row[1]): int(row[2]) for row in conn.execute(query)}

    def judgements(self) -> list[Judgement]:
        """Each alert's verdict per watchlist: each person's latest press counts once (a later press
        corrects their earlier one), the majority decides, and a tie goes to the latest press. One analyst
        pressing last no longer overrules two who judged otherwise."""
        table = schema.interactions
        query = (
            select(table.c.alert_id, table.c.watchlist, table.c.user_id, table.c.action)
            .where(table.c.action.in_(JUDGEMENTS))
            .order_by(table.c.id)
        )
        people: dict[tuple[int, str], dict[str, str]] = {}
        latest: dict[tuple[int, str], str] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                people.setdefault((row.alert_id, row.watchlist), {})[row.user_id] = row.action
                latest[(row.alert_id, row.watchlist)] = row.action
        return [
            Judgement(alert, name, _verdict(list(people[alert, name].values()), latest[alert, name]))
            for alert, name in latest
        ]


def _verdict(judgements: list[str], latest: str) -> bool:
    """Relevant when more people's latest judgement says so than not; a tie goes to the latest press."""
    relevant = judgements.count("relevant")
    others = len(judgements) - relevant
    return relevant > others if relevant != others else latest == "relevant"


def _row(interaction: Interaction, watchlist: str) -> dict[str, Any]:
    return {
        "dedup_key": interaction.key,
        "watchlist": watchlist,
        "at": interaction.at,
        "user_id": interaction.user_id,
        "team_id": interaction.team_id,
        "action": interaction.action,
        "alert_id": interaction.alert_id,
        "article_id": interaction.article_id,
        "story_id": interaction.story_id,
        "outlet": interaction.outlet,
        "channel": interaction.channel,
        "channel_id": interaction.channel_id,
        "message_ts": interaction.message_ts,
    }


def _make_mutes(conn: Connection, interaction: Interaction) -> None:
    """Mute story: the story in the alert's channel. Mute outlet: the outlet for each of its watchlists."""
    who = {"muted_at": interaction.at, "muted_by": interaction.user_id, "alert_id": interaction.alert_id}
    if interaction.action == "mute_story" and interaction.story_id is not None:
        row = {"story_id": interaction.story_id, "channel": interaction.channel, **who}
        conn.execute(dialect_insert(conn, schema.story_mutes).values(row).on_conflict_do_nothing())
    if interaction.action == "mute_outlet" and interaction.outlet:
        for watchlist in interaction.watchlists:
            row = {"outlet": interaction.outlet, "watchlist": watchlist, **who}
            conn.execute(dialect_insert(conn, schema.outlet_mutes).values(row).on_conflict_do_nothing())


def _refresh_waiting(conn: Connection, alert_id: int) -> bool:
    """Whether a rewrite of the alert is queued and no sender has taken it yet: that one reads every mark
    when it is sent, so another press needs no rewrite of its own (30 presses were 30 chat.updates, each
    paced like a post, ahead of the channel's next alert). One already taken may have read the marks
    before this press: then the press queues its own."""
    table = schema.alerts
    waiting = (
        (table.c.kind == "refresh") & (table.c.parent_id == alert_id)
        & (table.c.status == "pending") & table.c.claimed_by.is_(None)
    )  # fmt: skip
    # FOR UPDATE (PostgreSQL; SQLite's write lock already orders the two): a sender taking that refresh
    # at this moment holds its row, and once it commits the row no longer counts as waiting, so this
    # press queues its own instead of being missing from the rewrite the sender makes.
    query = select(table.c.id).where(waiting).limit(1).with_for_update()
    return conn.execute(query).first() is not None
