"""Attempt windows, in memory and in a real Redis: a slot is given back only to the window
instance it was taken from, so a login that straddles the end of a window cannot free a slot
of the next one (an extra guess per window boundary)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from tests.support.servers import start_redis
from tradegraph.auth.attempts import MemoryAttemptWindows, RedisAttemptWindows, Slots, Window

PREFIX = "test:attempts:"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def taken(result: Slots | float) -> Slots:
    assert isinstance(result, Slots), f"refused: wait {result} s"
    return result


async def test_in_memory_a_success_gives_back_its_slot_within_the_window() -> None:
    windows = MemoryAttemptWindows(Clock())
    window = Window("k", limit=2, window_seconds=10)
    first = taken(await windows.reserve([window]))
    taken(await windows.reserve([window]))
    assert await windows.reserve([window]) == 10  # full: refused, waits for the window's end

    await windows.give_back(first)

    taken(await windows.reserve([window]))


async def test_in_memory_a_slot_of_an_ended_window_frees_nothing_in_the_next() -> None:
    clock = Clock()
    windows = MemoryAttemptWindows(clock)
    window = Window("k", limit=2, window_seconds=10)
    straddling = taken(await windows.reserve([window]))  # its password check is slow…
    clock.now += 11  # …the window ends meanwhile and a new one fills with two failures
    taken(await windows.reserve([window]))
    taken(await windows.reserve([window]))

    await windows.give_back(straddling)  # then it succeeds

    assert await windows.reserve([window]) == pytest.approx(10)  # still full


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    server = await start_redis()
    yield server.url
    await server.stop()


async def test_in_redis_a_slot_of_an_ended_window_frees_nothing_in_the_next(
    redis_url: str,
) -> None:
    windows = RedisAttemptWindows(redis_url, PREFIX)
    window = Window("k", limit=2, window_seconds=0.3)
    try:
        first = taken(await windows.reserve([window]))
        taken(await windows.reserve([window]))
        assert isinstance(await windows.reserve([window]), float)  # full
        await windows.give_back(first)  # within the window: the slot comes back
        straddling = taken(await windows.reserve([window]))
        await window_ended(redis_url, PREFIX + window.key)
        taken(await windows.reserve([window]))
        taken(await windows.reserve([window]))

        await windows.give_back(straddling)

        assert isinstance(await windows.reserve([window]), float)  # the new window stays full
    finally:
        await windows.close()


async def window_ended(url: str, key: str) -> None:
    """Until Redis has expired the window's counter (it expires on its own clock)."""
    client = aioredis.Redis.from_url(url)
    try:
        async with asyncio.timeout(5):
            while await client.exists(key):  # noqa: ASYNC110 - Redis sends no expiry event here
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()
