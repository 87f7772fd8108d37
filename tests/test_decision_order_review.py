"""Review of the second turn (DecisionOrder.turn(..., again=True)): how long it may be put off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitor.stories.decision_order import DecisionOrder

T0 = datetime(2026, 12, 6, tzinfo=UTC)
STREAM = 300  # first turns arriving one after another, each while the one before it is decided


def test_a_second_turn_is_not_put_off_by_first_turns_that_arrive_after_it() -> None:
    # A service polls all the time: while a brief waits for its second turn, other articles finish
    # reading and take first turns. Each arrives while the one before it is decided, so a first turn
    # always waits when the turn is free, and the second turn (sorted after every first turn) waits for
    # all of them, however many, even with settle 0 ("decide at once"). Its alert is held as long as
    # articles keep coming; the settle time bounds every other wait (decision_order.py).
    async def stream() -> list[str]:
        order = DecisionOrder(settle=0)
        decided: list[str] = []
        tasks: list[asyncio.Task[None]] = []

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
                await asyncio.sleep(0)  # (the decision's store work, off the event loop)

        tasks.append(asyncio.create_task(article(1)))
        while not all(task.done() for task in tasks):
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        return decided

    decided = asyncio.run(stream())
    assert decided[:2] == ["1", "brief"]
    # Only article 2 waited (and nothing else was being read) when the second turn was asked for: the
    # docstring's "waits for the articles being read when it was asked for". Seen: 299 first turns,
    # articles 2 to 300, went before it.
    assert decided.index("brief again") == 3, decided.index("brief again")
