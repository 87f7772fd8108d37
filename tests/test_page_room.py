"""The byte budget for pages in memory (http/page_room.py): what claims hold stays within the budget plus
one page, whatever they ask for and in whatever order, and every claim completes (no deadlock).

No timing: a deadlock is seen as the event loop turning with no claim making progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.http.client import HttpClient
from monitor.http.page_room import FIRST_BYTES, ByteBudget, PageRoom
from monitor.stages.fetch import fetch_page
from tests.support.web_server import WebServer

# A step of a claim's life: grow to `n` bytes in all (hold) or give back down to `n` (shrink).
Step = tuple[str, int]


async def _run_claims(capacity: int, lives: list[list[Step]]) -> tuple[int, int]:
    """Run each life as a concurrent claim; return (most bytes held at once, most held by non-oldest)."""
    budget = ByteBudget(capacity)
    progress = 0
    done = 0
    worst = worst_others = 0

    def observe() -> None:
        nonlocal worst, worst_others
        oldest = next(iter(budget._claims), None)
        worst = max(worst, budget.held)
        worst_others = max(worst_others, budget.held - (oldest.held if oldest else 0))

    async def live(steps: list[Step]) -> None:
        nonlocal progress, done
        claim = budget.claim()
        try:
            for action, size in steps:
                if action == "hold":
                    await claim.hold(size)
                else:
                    claim.shrink(size)
                observe()
                progress += 1
                await asyncio.sleep(0)  # let the others run between steps
        finally:
            claim.release()
            observe()
            done += 1

    tasks = [asyncio.create_task(live(steps)) for steps in lives]
    # Deadlock detector: every claim waiting on the budget, so nothing moves for many turns of the loop.
    still = 0
    while done < len(tasks):
        before = progress + done
        await asyncio.sleep(0)
        still = still + 1 if progress + done == before else 0
        if still > 1_000:
            for task in tasks:
                task.cancel()
            pytest.fail(f"deadlock: {len(tasks) - done} claims never completed")
    await asyncio.gather(*tasks)
    assert budget.held == 0
    assert not budget._claims
    return worst, worst_others


def _life(sizes: list[int]) -> list[Step]:
    """Grow step by step to each size in turn (a page's body streaming in), then shrink to the last."""
    steps: list[Step] = []
    total = 0
    for size in sizes:
        total += size
        steps.append(("hold", total))
    steps.append(("shrink", sizes[-1]))
    return steps


lives_strategy = st.lists(
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6), min_size=1, max_size=40
)


@given(capacity=st.integers(min_value=1, max_value=100), lives=lives_strategy)
def test_claims_hold_at_most_the_budget_plus_one_page_and_all_complete(
    capacity: int, lives: list[list[int]]
) -> None:
    steps = [_life(sizes) for sizes in lives]
    biggest_page = max(sum(sizes) for sizes in lives)
    worst, worst_others = asyncio.run(_run_claims(capacity, steps))
    assert worst_others <= capacity
    assert worst <= capacity + biggest_page


def test_two_hundred_pages_each_bigger_than_the_budget_all_complete() -> None:
    # Each page wants 3x the budget in 10 steps: only the oldest can ever proceed, one page at a time.
    lives = [_life([30] * 10) for _ in range(200)]
    worst, worst_others = asyncio.run(_run_claims(100, lives))
    assert worst <= 100 + 300
    assert worst_others <= 100


def test_a_big_claim_is_not_starved_by_small_ones_behind_it() -> None:
    async def go() -> None:
        budget = ByteBudget(100)
        first, big = budget.claim(), budget.claim()
        smalls = [budget.claim() for _ in range(3)]
        await first.hold(60)
        waiting = [asyncio.create_task(big.hold(80))]
        await asyncio.sleep(0)
        # Each would fit beside `first`, but `big` asked before them: they wait behind it.
        waiting += [asyncio.create_task(claim.hold(10)) for claim in smalls]
        await asyncio.sleep(0)
        assert [claim.held for claim in (big, *smalls)] == [0, 0, 0, 0]
        first.release()
        assert [claim.held for claim in (big, *smalls)] == [80, 10, 10, 0]  # in order, while they fit
        big.release()
        await asyncio.gather(*waiting)
        assert [claim.held for claim in smalls] == [10, 10, 10]

    asyncio.run(go())


def test_a_cancelled_wait_takes_nothing_and_lets_the_next_claim_in() -> None:
    async def go() -> None:
        budget = ByteBudget(100)
        first, second, third = budget.claim(), budget.claim(), budget.claim()
        await first.hold(50)
        big = asyncio.create_task(second.hold(90))
        small = asyncio.create_task(third.hold(40))
        await asyncio.sleep(0)
        assert not big.done() and not small.done()
        big.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await big
        await small  # was only waiting behind the cancelled one
        assert (second.held, third.held, budget.held) == (0, 40, 90)
        for claim in (first, second, third):
            claim.release()
        assert budget.held == 0

    asyncio.run(go())


def test_the_oldest_claim_overdraws_when_the_budget_is_full() -> None:
    async def go() -> None:
        budget = ByteBudget(100)
        oldest, other = budget.claim(), budget.claim()
        await oldest.hold(10)
        await other.hold(90)
        await oldest.hold(500)  # a page bigger than the budget still finishes
        assert budget.held == 590
        waiting = asyncio.create_task(other.hold(91))
        await asyncio.sleep(0)
        assert not waiting.done()  # not the oldest: it waits
        oldest.release()
        await waiting
        assert budget.held == 91

    asyncio.run(go())


def test_a_page_weighs_its_body_then_its_decoded_text_then_nothing() -> None:
    async def go() -> None:
        room = PageRoom(budget=1_000_000_000, pages=4)
        page = room.claim()
        async with page.then(contextlib.nullcontext()):
            assert room.bytes.held == FIRST_BYTES
            await page.reserve_body(3_000_000)  # chunks, then joined: twice the bytes for a moment
            assert room.bytes.held == 6_000_000
        body = b"x" * 999_999 + "\N{GRINNING FACE}".encode()  # one emoji: 4 bytes a character
        await page.reserve_for_decoding(body)
        assert room.bytes.held >= 6 * len(body)
        text = body.decode()
        page.settle_decoded(text)
        assert room.bytes.held == sys.getsizeof(text) > 4_000_000
        page.release()
        assert room.bytes.held == 0

    asyncio.run(go())


def test_an_ascii_body_reserves_one_byte_a_character() -> None:
    async def go() -> int:
        room = PageRoom(budget=1_000_000_000)
        page = room.claim()
        await page.reserve_for_decoding(b"x" * 1_000_000)
        return room.bytes.held

    assert asyncio.run(go()) < 2_000_100


def test_a_fetched_page_had_room_for_its_body_and_text_and_keeps_its_text(web_server: WebServer) -> None:
    html = "<html><body><p>" + "x" * 400_000 + "\N{GRINNING FACE}</p></body></html>"  # 4 bytes a character
    body = html.encode()
    url = web_server.add("/wide.html", body)

    async def go() -> None:
        room = PageRoom(budget=100_000_000)
        claim = room.claim()
        async with HttpClient(timeout=5, user_agent="t", allow_private_addresses=True) as http:
            page = await fetch_page(
                http, url, max_bytes=1_000_000, then=claim.then(contextlib.nullcontext()), room=claim
            )
        assert page.html == html
        assert room.bytes.peak >= 6 * len(body)  # the body, its text and the decoder's draft, before decoding
        assert room.bytes.held == sys.getsizeof(page.html)  # the text alone, until extracted
        claim.release()
        assert room.bytes.held == 0

    asyncio.run(go())
