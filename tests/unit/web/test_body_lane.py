"""web/body_limits.py's BigBodyLane: big bodies are read one at a time."""

from __future__ import annotations

import asyncio

from tradegraph.web.body_limits import BigBodyLane


async def test_a_second_big_body_waits_until_the_first_is_read() -> None:
    lane = BigBodyLane()
    order: list[str] = []
    first_read = asyncio.Event()
    first_inside = asyncio.Event()

    async def first() -> None:
        async with lane.turn():
            order.append("first in")
            first_inside.set()
            await first_read.wait()
            order.append("first out")

    async def second() -> None:
        async with lane.turn():
            order.append("second in")

    reading = asyncio.create_task(first())
    await first_inside.wait()
    waiting = asyncio.create_task(second())
    for _ in range(5):
        await asyncio.sleep(0)  # the second has every chance to enter, and must not
    assert order == ["first in"]
    first_read.set()
    await asyncio.gather(reading, waiting)
    assert order == ["first in", "first out", "second in"]
