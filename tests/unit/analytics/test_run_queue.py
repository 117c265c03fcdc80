"""analytics/run_queue.py: per-user slots with a bounded line, and the worker pool taking
chunks from users in turn (one real worker process, so completion order is dispatch order)."""

from __future__ import annotations

import asyncio

import pytest

from tradegraph.analytics.run_queue import RunQueue
from tradegraph.analytics.worker_pool import WorkerPool
from tradegraph.errors import TooManyRequests


def echo(job: str) -> str:
    return job


async def test_a_user_runs_two_at_once_then_waits_in_line_then_is_refused() -> None:
    queue = RunQueue(WorkerPool(1), runs_per_user=2, queued_per_user=3)
    running = [queue.admit("a"), queue.admit("a")]
    waiting = [queue.admit("a") for _ in range(3)]
    assert [t.ready.done() for t in running + waiting] == [True, True, False, False, False]
    with pytest.raises(TooManyRequests, match="at most 3"):
        queue.admit("a")
    assert queue.admit("b").ready.done()  # another user's slots are their own

    waiting[1].release()  # leaves the line
    running[0].release()  # its slot goes to the first in line
    assert waiting[0].ready.done()
    assert not waiting[2].ready.done()
    assert queue.waiting("a") == 1
    running[1].release()
    assert waiting[2].ready.done()
    assert queue.waiting("a") == 0


async def test_the_pool_takes_chunks_from_users_in_turn() -> None:
    pool = WorkerPool(1)
    queue = RunQueue(pool, runs_per_user=2, queued_per_user=10)
    done: list[str] = []

    async def chunk(owner: str, name: str) -> None:
        done.append(await queue.run_chunk(owner, echo, name))

    try:
        big = [asyncio.create_task(chunk("a", f"a{i}")) for i in range(10)]
        await asyncio.sleep(0)  # a's chunks are in line before b's arrive
        small = [asyncio.create_task(chunk("b", f"b{i}")) for i in range(2)]
        await asyncio.gather(*big, *small)
    finally:
        await pool.close()
    assert done.index("b0") <= 2  # behind at most the chunk in flight and one more of a's
    assert done.index("b1") == done.index("b0") + 2  # then every other chunk
    assert [name for name in done if name.startswith("a")] == [f"a{i}" for i in range(10)]


async def test_a_cancelled_runs_chunks_never_reach_the_pool() -> None:
    pool = WorkerPool(1)
    queue = RunQueue(pool, runs_per_user=2, queued_per_user=10)
    try:
        first = asyncio.create_task(queue.run_chunk("a", echo, "first"))
        dropped = [asyncio.create_task(queue.run_chunk("a", echo, f"x{i}")) for i in range(5)]
        await asyncio.sleep(0)
        for task in dropped:
            task.cancel()
        assert await first == "first"
        after = await queue.run_chunk("b", echo, "after")
    finally:
        await pool.close()
    assert after == "after"
    assert all(task.cancelled() for task in dropped)
    assert queue._in_flight == 0
