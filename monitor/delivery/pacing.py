"""Pacing per channel: posts to one channel at least `pace` apart, across every instance sharing the
store, and a channel Slack rate-limited (429) paused until its Retry-After ends, for every instance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from ..storage import OutboxEntry, Storage
from ..storage.fleet import LONGEST_CHANNEL_HOLD

# Slack: "generally allows posting one message per second per channel" (../shared/SLACK.md §3.1).
DEFAULT_PACE_SECONDS = 1.0
# The shortest wait for a channel's turn another instance holds (clocks a few milliseconds apart).
MIN_TURN_WAIT_SECONDS = 0.05
# A channel busy this much longer than a turn is held by another instance's 429: its entries are
# postponed, not waited for. The margin keeps clocks a little apart from postponing ordinary turns.
HELD_MARGIN_SECONDS = 2.0


class ChannelPacer:
    """When each channel may be posted to next: this instance's last post there, the channel's turn in
    the store (shared by every instance), and Slack's 429 pauses."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime], pace: float = DEFAULT_PACE_SECONDS):
        self.storage = storage
        self.clock = clock
        self.pace = pace
        self.last_post: dict[str, float] = {}  # channel -> monotonic time this instance last posted there
        self.paused_until: dict[str, float] = {}  # channel -> monotonic time (429)

    async def next_ready(
        self, queue: list[OutboxEntry], blocked: Callable[[str], str | None]
    ) -> OutboxEntry | None:
        """Take the oldest entry whose channel may be posted to now, waiting for pacing if none can."""
        waits = []
        waiting: set[str] = set()  # channels found busy in this look: the store is asked once for each
        for index, entry in enumerate(queue):
            if self.paused_for(entry.channel) > 0:
                queue.pop(index)
                self.postpone(entry)
                return None
            if entry.channel in waiting:
                continue
            if blocked(entry.channel):
                return queue.pop(index)  # failed without a post: no turn to wait for
            wait = self.turn_wait(entry.channel)
            if wait <= 0:
                return queue.pop(index)
            if self.paused_for(entry.channel) > 0:
                return None  # held by another instance's 429: its entries are postponed on the next look
            waiting.add(entry.channel)
            waits.append(wait)
        await asyncio.sleep(min(waits))
        return None

    def turn_wait(self, channel: str) -> float:
        """Seconds until this instance may post to the channel: after its own last post, then when the
        channel's turn (shared by every instance on the store) is free. Taking the turn holds it.

        A channel busy for much longer than a turn is held (another instance's 429): it is paused here
        too, so its entries go back to the store until then instead of holding up the sender.
        """
        wait = self.last_post.get(channel, -self.pace) + self.pace - time.monotonic()
        if wait > 0 or self.pace <= 0:
            return wait
        now = self.clock()
        free_at = self.storage.take_channel_turn(channel, now, timedelta(seconds=self.pace))
        if free_at is None:
            return 0.0
        wait = max((free_at - now).total_seconds(), MIN_TURN_WAIT_SECONDS)
        if wait > self.pace + HELD_MARGIN_SECONDS:
            self.paused_until[channel] = time.monotonic() + wait
        return wait

    def posting(self, channel: str) -> None:
        """A post to the channel starts now: the next one waits a pace from here."""
        self.last_post[channel] = time.monotonic()

    def pace_from_answer(self, channel: str) -> None:
        """The channel's next post, by this instance or another, comes a pace after this post's answer.

        The turn was taken before the post; a request slowed on its way (a busy host, a slow store) would
        otherwise reach Slack closer to the next one than the pace. The turn is only moved if this instance
        still holds it (take_channel_turn), so a 429's hold or another instance's turn stands.
        """
        self.last_post[channel] = time.monotonic()
        if self.pace > 0:
            self.storage.take_channel_turn(channel, self.clock(), timedelta(seconds=self.pace))

    def hold(self, channel: str, retry_after: float) -> None:
        """Slack answered 429: the channel is paused here for Retry-After, and held in the store (up to
        LONGEST_CHANNEL_HOLD) for every other instance."""
        self.paused_until[channel] = time.monotonic() + retry_after
        hold = min(timedelta(seconds=retry_after), LONGEST_CHANNEL_HOLD)
        self.storage.hold_channel(channel, self.clock() + hold)

    def paused_for(self, channel: str) -> float:
        """Seconds left of a 429 pause on `channel` (0 when not paused)."""
        until = self.paused_until.get(channel)
        if until is None:
            return 0.0
        if until <= time.monotonic():
            del self.paused_until[channel]
            return 0.0
        return until - time.monotonic()

    def postpone(self, entry: OutboxEntry) -> None:
        """Move an alert of a rate-limited channel to when the pause ends (not counted as an attempt)."""
        next_attempt = self.clock() + timedelta(seconds=self.paused_for(entry.channel))
        self.storage.postpone_alert(entry.id, next_attempt_at=next_attempt)

    def forget_pauses(self) -> None:
        """After a configuration change: the pauses learnt under the old one no longer apply here."""
        self.paused_until = {}
