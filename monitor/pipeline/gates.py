"""A concurrency limit shared fairly: waiters are served round-robin by key (a feed), not first come.

With a plain semaphore, a feed whose 1,000 new items all want a page fetch or an extraction queues
them ahead of every other feed's, which then wait for the whole backlog (issue 12: 49 s for one
article behind one feed's 110). Here each key has its own queue, and a freed slot goes to the next key
in turn: an item of another feed waits for at most one slot release per key with waiters.

Turns alone do not help when slots are released slowly: one feed linking to 300 hosts that accept a
connection and never answer held every slot for a whole fetch timeout (20 s) while another feed's article
waited (the review of issue 12). So one key may hold at most `share` slots at once: the rest stay free for
the other keys, and a newcomer is served at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Hashable


class FairGate:
    """At most `capacity` holders at once, at most `share` of them for one key; when full, keys take
    turns at the freed slots."""

    def __init__(self, capacity: int, *, share: int | None = None):
        if capacity < 1:
            raise ValueError(f"a gate needs at least one slot, not {capacity}")
        self.capacity = capacity
        self.share = min(share or capacity, capacity)
        self._free = capacity
        self._held: dict[Hashable, int] = {}  # slots held now, by key (keys holding none are absent)
        # Keys with waiters, in the order they are served next; each with its waiters, oldest first.
        self._queues: OrderedDict[Hashable, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    @contextlib.asynccontextmanager
    async def slot(self, key: Hashable) -> AsyncIterator[None]:
        """Hold one slot for `key`'s work; wait for its turn when every slot is taken."""
        await self._acquire(key)
        try:
            yield
        finally:
            self._release(key)

    async def _acquire(self, key: Hashable) -> None:
        if self._free > 0 and not self._queues and self._held.get(key, 0) < self.share:
            self._take(key)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, deque()).append(waiter)
        self._hand_on()  # slots may be free while every waiter's key holds its share: this key may not
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(key)  # the slot was handed over just as the waiter gave up: pass it on
            else:
                self._forget(key, waiter)
            raise

    def _take(self, key: Hashable) -> None:
        self._free -= 1
        self._held[key] = self._held.get(key, 0) + 1

    def _release(self, key: Hashable) -> None:
        """Give back `key`'s slot, then hand free slots on, in turn, to keys under their share."""
        self._free += 1
        held = self._held.get(key, 0) - 1
        if held > 0:
            self._held[key] = held
        else:
            self._held.pop(key, None)
        self._hand_on()

    def _hand_on(self) -> None:
        """Each free slot to the next key (in turn) that has waiters and holds less than its share."""
        for key in list(self._queues):
            if self._free <= 0:
                return
            if self._held.get(key, 0) >= self.share:
                continue
            queue = self._queues[key]
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    self._take(key)
                    waiter.set_result(None)
                    break
            if queue:
                self._queues.move_to_end(key)  # served: to the back of the line
            else:
                del self._queues[key]

    def _forget(self, key: Hashable, waiter: asyncio.Future[None]) -> None:
        queue = self._queues.get(key)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(waiter)
        if not queue:
            del self._queues[key]
