"""The long lane: long emulation calls take turns, so a short call waits behind one step.

A split aggregation (emulation_split.py) runs in short store-thread steps; short calls queued
meanwhile run between them. Two long calls at once would put two steps between every short
call, n calls n steps; and their copies and groups would fill memory together. Through this
lane they run one after another, in the order they asked (asyncio.Lock wakes its waiters
first in, first out).
"""

from __future__ import annotations

import asyncio
import weakref

_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


BUSY_TURN_SECONDS = 0.001  # the loop's turn took this long: others are at work


async def between_steps(step_seconds: float) -> None:
    """The event loop's turn between two steps of a long call. When others used it for a while
    (the loop is busy), they also get a step's time with the interpreter to themselves: the
    store thread's steps share the GIL with the loop, so back to back they would halve
    everyone else's speed. Under load a long call takes about half the time; idle, it runs
    at full speed."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(0)
    if loop.time() - started >= BUSY_TURN_SECONDS:
        await asyncio.sleep(step_seconds)


def long_lane() -> asyncio.Lock:
    """The running event loop's long lane (a lock belongs to one loop; tests run several)."""
    loop = asyncio.get_running_loop()
    lane = _lanes.get(loop)
    if lane is None:
        lane = _lanes[loop] = asyncio.Lock()
    return lane
