"""Review of the second turn's place (decision_order.py _second_turn_due, 8bfe9fb): first turns read after
a second turn was asked for go after it, in every way the turn can be given."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitor.stories.decision_order import DecisionOrder

T0 = datetime(2026, 12, 6, tzinfo=UTC)
STREAM = 300  # first turns arriving one after another, each while the one before it is decided


def test_a_second_turn_is_not_put_off_by_later_first_turns_while_an_older_poll_is_under_way() -> None:
    # As tests/test_decision_order_review.py's stream (fixed by 8bfe9fb), but a feed poll begun before the
    # brief asked for its second turn is still under way (a slow host's items read one by one). The second
    # turn may wait for that poll, or for `settle` (0 here: decide at once). Waited that long, the turn
    # goes to the earliest waiter of the heap, and a first turn always sorts before a second: every
    # article read after the brief asked goes first, as long as they keep coming and the poll lasts.
    async def stream() -> list[str]:
        order = DecisionOrder(settle=0)
        decided: list[str] = []
        tasks: list[asyncio.Task[None]] = []
        slow_poll = order.hold()  # under way before anything below; released once the stream is over

        async def brief() -> None:
            async with order.turn(T0, "https://news.example/brief"):
                decided.append("brief")
            async with order.turn(T0, "https://news.example/brief", again=True):
                decided.append("brief again")

        async def article(n: int) -> None:
            async with order.turn(T0 + timedelta(minutes=n), f"https://news.example/{n}"):
                decided.append(str(n))
                if n == 1:
                    tasks.append(asyncio.create_task(brief()))
                if n < STREAM:
                    tasks.append(asyncio.create_task(article(n + 1)))
                else:
                    slow_poll.release()
                await asyncio.sleep(0)  # (the decision's store work, off the event loop)

        tasks.append(asyncio.create_task(article(1)))
        while not all(task.done() for task in tasks):
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        return decided

    decided = asyncio.run(stream())
    assert decided[:2] == ["1", "brief"]
    # Seen: articles 2 to 300 all go before it.
    assert decided.index("brief again") <= 3, decided.index("brief again")
