"""A live feed a client can resume: replay from the store after its cursor, then live, in
cursor order, with no gap and no duplicate at the seam.

The caller subscribes to the live channel FIRST, then this replays the store after the
cursor; whatever the live channel delivers is merged by sequence number (a number already
delivered is dropped). Numbers are delivered strictly in order: a number that is missing
while later ones are here (a writer in another process not done yet, or a message the broker
lost) is looked up in the store; after `grace` seconds without it, it is skipped (a writer
died between taking the number and storing the entry). While idle the store is polled every
`poll` seconds, so an entry whose broker message was lost (a broker outage) still arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

from tradegraph.sequences import Replay, Sequenced

T = TypeVar("T")


async def resume(
    live: AsyncIterator[list[Sequenced[T]]],
    replay: Replay[T],
    after: int,
    grace: float,
    poll: float,
) -> AsyncIterator[T]:
    """Items after `after` in sequence order: stored ones first, then live ones."""
    loop = asyncio.get_running_loop()
    expected = after + 1
    pending: dict[int, T | None] = {}
    gap_since: float | None = None

    async def read_store() -> None:
        async for entry in replay(expected - 1):
            pending.setdefault(entry.seq, entry.item)

    def ready() -> list[T]:
        nonlocal expected
        out = []
        while expected in pending:
            item = pending.pop(expected)
            expected += 1
            if item is not None:
                out.append(item)
        return out

    await read_store()
    for item in ready():
        yield item
    waiting: asyncio.Future[list[Sequenced[T]]] = asyncio.ensure_future(anext(live))
    try:
        while True:
            timeout = poll if not pending else grace / 4
            done, _ = await asyncio.wait({waiting}, timeout=timeout)
            if done:
                for entry in waiting.result():
                    if entry.seq >= expected:
                        pending.setdefault(entry.seq, entry.item)
                waiting = asyncio.ensure_future(anext(live))
            if not done or (pending and expected not in pending):
                await read_store()  # idle, or a gap: the store has what the broker lost
            if pending and expected not in pending:
                gap_since = gap_since if gap_since is not None else loop.time()
                if loop.time() - gap_since >= grace:
                    expected = min(pending)  # never stored: its writer died
            if not pending or expected in pending:
                gap_since = None
            for item in ready():
                yield item
    finally:
        waiting.cancel()
