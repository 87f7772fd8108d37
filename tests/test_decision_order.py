"""DecisionOrder: read articles take their turn in publication order (monitor/stories/decision_order.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.stories.decision_order import MAX_WAITING, DecisionOrder, Hold

T0 = datetime(2026, 12, 6, tzinfo=UTC)


async def decide_all(order: DecisionOrder, arrivals: list[int], holds_released_after: int) -> list[int]:
    """Articles arrive (finish reading) in `arrivals` order, each published `n` hours after T0; one
    extra hold (a feed still polled) is released after that many arrivals. Returns the decision order."""
    decided: list[int] = []
    feed = order.hold()

    async def article(n: int) -> None:
        async with order.turn(T0 + timedelta(hours=n), f"https://news.example/{n}"):
            decided.append(n)
            await asyncio.sleep(0)

    tasks = []
    for count, n in enumerate(arrivals, 1):
        tasks.append(asyncio.create_task(article(n)))
        await asyncio.sleep(0)
        if count == holds_released_after:
            feed.release()
    feed.release()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    return decided


@given(st.permutations(list(range(8))))
def test_articles_are_decided_in_publication_order_whatever_order_they_are_read_in(
    arrivals: list[int],
) -> None:
    decided = asyncio.run(decide_all(DecisionOrder(settle=60), arrivals, holds_released_after=len(arrivals)))
    assert decided == sorted(arrivals)


def test_with_nothing_else_being_read_an_article_is_decided_at_once() -> None:
    async def one() -> list[int]:
        order = DecisionOrder(settle=60)
        decided = []
        async with order.turn(T0, "https://news.example/a"):
            decided.append(1)
        return decided

    assert asyncio.run(asyncio.wait_for(one(), timeout=30)) == [1]


def test_a_hold_never_released_delays_decisions_only_by_the_settle_time() -> None:
    async def stuck() -> list[int]:
        order = DecisionOrder(settle=0.05)
        order.hold()  # an article whose page never comes
        decided = []
        for n in (3, 1, 2):
            async with order.turn(T0 + timedelta(hours=n), f"https://news.example/{n}"):
                decided.append(n)
        return decided

    assert asyncio.run(asyncio.wait_for(stuck(), timeout=30)) == [3, 1, 2]


def test_too_many_waiting_articles_go_without_waiting_for_the_rest() -> None:
    async def crowd() -> int:
        order = DecisionOrder(settle=3600)
        order.hold()  # never released, and the settle time never comes in this test
        done = 0

        async def article(n: int) -> None:
            nonlocal done
            async with order.turn(T0 + timedelta(minutes=n), f"https://news.example/{n}"):
                done += 1

        tasks = [asyncio.create_task(article(n)) for n in range(MAX_WAITING + 10)]
        await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return done

    # Each arrival beyond MAX_WAITING lets the earliest go: memory stays bounded, nothing deadlocks.
    assert asyncio.run(crowd()) >= 10


def test_holds_taken_after_an_article_arrived_do_not_hold_it_back() -> None:
    # A service polls feeds all the time: an article waits for what was being read when it arrived,
    # not for polls started later (or it would always wait the whole settle time).
    async def later_polls() -> list[str]:
        order = DecisionOrder(settle=3600)
        decided: list[str] = []
        earlier = order.hold()

        async def article() -> None:
            async with order.turn(T0, "https://news.example/a"):
                decided.append("a")

        task = asyncio.create_task(article())
        await asyncio.sleep(0)
        later = order.hold()  # a feed polled after the article was read
        await asyncio.sleep(0)
        assert decided == []  # still held back by what was being read before it
        earlier.release()
        await asyncio.wait_for(task, timeout=30)
        later.release()
        return decided

    assert asyncio.run(later_polls()) == ["a"]


def test_a_feeds_items_hold_decisions_as_early_as_their_feed() -> None:
    # Feed A's poll began first; an article of feed B is read while A is still polled; A's item,
    # published earlier, comes after: it must still go first (its hold dates from A's poll).
    async def two_feeds() -> list[str]:
        order = DecisionOrder(settle=3600)
        decided: list[str] = []
        polling_a = order.hold()
        polling_b = order.hold()
        item_b = order.hold(like=polling_b)
        polling_b.release()

        async def article(name: str, hours: int, hold: Hold) -> None:
            async with order.turn(T0 + timedelta(hours=hours), f"https://news.example/{name}", hold):
                decided.append(name)

        b = asyncio.create_task(article("b", 2, item_b))
        await asyncio.sleep(0)
        item_a = order.hold(like=polling_a)  # A's poll is done: its item is taken up now
        polling_a.release()
        await asyncio.sleep(0)
        assert decided == []
        await article("a", 1, item_a)
        await asyncio.wait_for(b, timeout=30)
        return decided

    assert asyncio.run(two_feeds()) == ["a", "b"]


@given(st.permutations(list(range(6))))
def test_a_second_turn_comes_after_every_first_turn_waiting(arrivals: list[int]) -> None:
    # A brief that would start a story (article 1) is decided again after the rest of its cycle, even
    # those published after it; in publication order among the second turns.
    async def cycle() -> list[str]:
        order = DecisionOrder(settle=60)
        decided: list[str] = []
        feed = order.hold()

        async def article(n: int) -> None:
            published = T0 + timedelta(hours=n)
            async with order.turn(published, f"https://news.example/{n}"):
                decided.append(str(n))
            if n in (1, 3):
                async with order.turn(published, f"https://news.example/{n}", again=True):
                    decided.append(f"{n} again")

        tasks = [asyncio.create_task(article(n)) for n in arrivals]
        await asyncio.sleep(0)
        feed.release()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        return decided

    assert asyncio.run(cycle()) == ["0", "1", "2", "3", "4", "5", "1 again", "3 again"]


STREAM = 300  # first turns arriving one after another, each while the one before it is decided


@pytest.mark.parametrize("older_poll", [False, True])
def test_a_second_turn_is_not_put_off_by_first_turns_read_after_it_asked(older_poll: bool) -> None:
    # A service polls all the time: while a brief waits for its second turn, articles keep finishing and
    # taking first turns, each while the one before it is decided. Only article 2 waited when the brief
    # asked again: it goes first, then the brief, whatever follows (outside reviews: 299 of 299 went
    # first, then 299 of 299 again while a poll begun before the brief asked, a slow host's, lasted
    # until the stream ended; settle 0 here).
    async def stream() -> list[str]:
        order = DecisionOrder(settle=0)
        decided: list[str] = []
        tasks: list[asyncio.Task[None]] = []
        slow_poll = order.hold() if older_poll else None

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
                elif slow_poll is not None:
                    slow_poll.release()
                await asyncio.sleep(0)  # (the decision's store work, off the event loop)

        tasks.append(asyncio.create_task(article(1)))
        while not all(task.done() for task in tasks):
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        return decided

    decided = asyncio.run(stream())
    assert decided[:4] == ["1", "brief", "2", "brief again"]
    assert len(decided) == STREAM + 2
