"""A concurrency limit shared fairly: waiters are served round-robin by key (a feed), not first come.

With a plain semaphore, a feed whose 1,000 new items all want a page fetch or an extraction queues
them ahead of every other feed's, which then wait for the whole backlog (issue 12: 49 s for one
article behind one feed's 110). Here each key has its own queue, and a freed slot goes to the next key
in turn: an item of another feed waits for at most one slot release per key with waiters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Hashable


class FairGate:
    """At most `capacity` holders at once; when full, keys take turns at the freed slots."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"a gate needs at least one slot, not {capacity}")
        self.capacity = capacity
        self._free = capacity
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
            self._release()

    async def _acquire(self, key: Hashable) -> None:
        if self._free > 0 and not self._queues:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, deque()).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as the waiter gave up: pass it on
            else:
                self._forget(key, waiter)
            raise

    def _release(self) -> None:
        """Hand the slot to the next key's oldest waiter, that key then going to the back of the line."""
        while self._queues:
            key, queue = next(iter(self._queues.items()))
            waiter = queue.popleft()
            if queue:
                self._queues.move_to_end(key)
            else:
                del self._queues[key]
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def _forget(self, key: Hashable, waiter: asyncio.Future[None]) -> None:
        queue = self._queues.get(key)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(waiter)
        if not queue:
            del self._queues[key]
