"""Story decisions in publication order, whatever order a cycle's articles finish being read in.

Which story an article joins depends on the stories already there: decided in the order pages happen to
download, one early article can start a story (or join one) that a later-published report would have
decided otherwise, and the same feeds could be grouped differently on every run. So an article that has
been read waits for its turn: the earliest-published waiting article goes first, once every article (and
feed poll) that was being read when it arrived is done, or once the oldest waiting one has waited
`settle` seconds (a slow host must not hold every alert back), or once `MAX_WAITING` articles wait
(each holds its text). A feed's items count as under way from the start of their feed's poll. Polls
started after an article arrived do not hold it back: a service polling feeds all the time would
otherwise keep every article waiting for `settle`. In `once`, every feed's poll is under way from the
cycle's start, so the whole cycle is decided in publication order.

An article may take a second turn (`again`): a brief that would start a story is decided again once the
rest of its cycle is (pipeline/item_stages.py). A second turn waits for the articles (and feed polls)
that were waiting or being read when it was asked for, and goes before articles read later: in a
service that keeps polling, there is always a later one, and the brief's alert would wait for them all.

Within those bounds, the grouping of a cycle's articles does not depend on the order in which they, or
their feeds, finish (tests/test_story_order.py permutes them). Two instances of a fleet decide their own
articles under the store's story lock in the order they arrive there.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime

# Read articles waiting for their turn at most: beyond it the earliest goes without waiting for the rest.
MAX_WAITING = 256


class Hold:
    """A feed poll's or an article's hold on the decisions: released once it is read (or has left)."""

    def __init__(self, order: DecisionOrder, number: int):
        self._order: DecisionOrder | None = order
        self.number = number

    def release(self) -> None:
        if self._order is not None:
            order, self._order = self._order, None
            order._unhold(self.number)


@dataclass(order=True)
class _Waiter:
    again: bool  # a second turn: sorts after the first ones (_second_turn_ahead says when it goes first)
    published: datetime
    url: str
    number: int  # arrival order: the last tie-breaker, so two waiters never compare equal
    arrived: float = field(compare=False)
    turn: asyncio.Future[None] = field(compare=False)
    horizon: int = field(compare=False)  # holds numbered below it were taken before it arrived
    # When it was under way from: the number of the hold it was read under (its feed poll's, for a feed's
    # item), else its own. A second turn waits for first turns under way before it asked.
    origin: int = field(compare=False)


class DecisionOrder:
    """The turns of one pipeline's story decisions: `hold` while reading, `turn` once read."""

    def __init__(self, settle: float):
        self.settle = settle
        self._holds: list[int] = []  # live holds' numbers, a heap (numbers no longer held dropped lazily)
        self._held: Counter[int] = Counter()  # live holds per number (a feed's items share its number)
        self._waiting: list[_Waiter] = []
        self._deciding = False
        self._numbers = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def hold(self, like: Hold | None = None) -> Hold:
        """Hold decisions back until released: an article being read (its turn may come first).

        `like`: a feed poll's hold, for its items: they were under way as early as their feed."""
        number = like.number if like is not None else next(self._numbers)
        if not self._held[number]:
            heapq.heappush(self._holds, number)
        self._held[number] += 1
        return Hold(self, number)

    @contextlib.contextmanager
    def busy(self) -> Iterator[Hold]:
        """Hold decisions back while this feed is polled (its articles' turns may come first)."""
        hold = self.hold()
        try:
            yield hold
        finally:
            hold.release()

    def _unhold(self, number: int) -> None:
        self._held[number] -= 1
        if not self._held[number]:
            del self._held[number]
        while self._holds and self._holds[0] not in self._held:
            heapq.heappop(self._holds)
        self._release()

    @contextlib.asynccontextmanager
    async def turn(
        self, published: datetime, url: str, hold: Hold | None = None, *, again: bool = False
    ) -> AsyncIterator[None]:
        """Wait until this article is the one to decide, then decide it (one at a time).

        `hold`: the article's own, released once it waits (not before: in between, a later-published
        article could take the turn). `again`: a second turn, given after the first turns under way when
        it was asked for, and before those read later (_second_turn_ahead)."""
        loop = asyncio.get_running_loop()
        number = next(self._numbers)
        origin = hold.number if hold is not None else number
        waiter = _Waiter(
            again, published, url, number, time.monotonic(), loop.create_future(), number, origin
        )
        heapq.heappush(self._waiting, waiter)
        if self._timer is None:
            self._timer = loop.call_later(self.settle, self._settled)
        if hold is not None:
            hold.release()  # (releasing runs _release)
        self._release()
        try:
            await waiter.turn
        except asyncio.CancelledError:
            self._withdraw(waiter)
            raise
        try:
            yield
        finally:
            self._deciding = False
            self._release()

    def _release(self) -> None:
        """Give the turn to the earliest waiter if nothing read when it arrived can still come before it,
        or waiting is over."""
        if self._deciding or not self._waiting:
            return
        # A second turn no waiting first turn was under way before goes first: the others were read
        # after it asked. Otherwise the earliest-published first turn.
        earliest = self._second_turn_ahead() or self._waiting[0]
        held_back = bool(self._holds) and self._holds[0] < earliest.horizon
        oldest = min(w.arrived for w in self._waiting)
        settled = time.monotonic() - oldest >= self.settle
        if held_back and not settled and len(self._waiting) < MAX_WAITING:
            return
        if earliest is self._waiting[0]:
            heapq.heappop(self._waiting)
        else:  # a second turn from within the heap: rare, and at most MAX_WAITING to re-heap
            self._waiting.remove(earliest)
            heapq.heapify(self._waiting)
        self._deciding = True
        earliest.turn.set_result(None)

    def _second_turn_ahead(self) -> _Waiter | None:
        """The earliest-published second turn that no waiting first turn was under way before, if any: it
        goes before the first turns, all read after it asked (holds under way then still hold it back,
        for at most `settle`, as they do every waiter)."""
        seconds = [w for w in self._waiting if w.again]
        if not seconds:
            return None
        first_under_way = min((w.origin for w in self._waiting if not w.again), default=None)
        ahead = [w for w in seconds if first_under_way is None or first_under_way > w.number]
        return min(ahead) if ahead else None

    def _settled(self) -> None:
        self._timer = None
        self._release()
        if self._waiting:  # still some: look again when the oldest of them has waited long enough
            loop = asyncio.get_running_loop()
            oldest = min(w.arrived for w in self._waiting)
            delay = max(self.settle - (time.monotonic() - oldest), 0.05)
            self._timer = loop.call_later(delay, self._settled)

    def _withdraw(self, waiter: _Waiter) -> None:
        if waiter.turn.done() and not waiter.turn.cancelled():
            self._deciding = False  # it had the turn and will not use it
        elif waiter in self._waiting:
            self._waiting.remove(waiter)
            heapq.heapify(self._waiting)
        self._release()
