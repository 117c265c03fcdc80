"""A live feed a client can resume: replay from the store after its cursor, then live, in
cursor order, with no gap and no duplicate at the seam.

The caller subscribes to the live channel FIRST; a pump moves whatever it delivers into a
buffer keyed by sequence number while the store is replayed after the cursor, so nothing
published during the replay is missed and nothing is delivered twice. Numbers go out strictly
in order: a number that is missing while later ones are here (a writer in another process not
done yet, or a message the broker lost) is looked up in the store; after `grace` seconds
without it, it is skipped (a writer died between taking the number and storing the entry).
While idle the store is re-read every `poll` seconds, so an entry whose broker message was
lost (a broker outage) still arrives. A subscriber more than MAX_BUFFERED entries behind is
ended with SubscriberTooSlow: it resumes from its last cursor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from tradegraph.errors import SubscriberTooSlow
from tradegraph.sequences import Replay, Sequenced

T = TypeVar("T")
MAX_BUFFERED = 10_000


class _Merge(Generic[T]):
    """The buffer both paths fill, and the next number to deliver."""

    def __init__(self, after: int) -> None:
        self.expected = after + 1
        self.pending: dict[int, T | None] = {}
        self.arrived = asyncio.Event()
        self.failure: BaseException | None = None

    def add(self, entry: Sequenced[T]) -> None:
        if entry.seq >= self.expected:
            self.pending.setdefault(entry.seq, entry.item)
        if len(self.pending) > MAX_BUFFERED:
            raise SubscriberTooSlow(
                f"more than {MAX_BUFFERED} messages were waiting for this subscriber; "
                "subscribe again with `after` set to the last cursor received"
            )

    def ready(self) -> list[T]:
        out = []
        while self.expected in self.pending:
            item = self.pending.pop(self.expected)
            self.expected += 1
            if item is not None:
                out.append(item)
        return out

    @property
    def gap(self) -> bool:
        return bool(self.pending) and self.expected not in self.pending

    async def pump(self, live: AsyncIterator[list[Sequenced[T]]]) -> None:
        try:
            async for batch in live:
                for entry in batch:
                    self.add(entry)
                self.arrived.set()
        except Exception as error:  # ends the subscriber, with this error
            self.failure = error
            self.arrived.set()


async def resume(
    live: AsyncIterator[list[Sequenced[T]]],
    replay: Replay[T],
    after: int,
    grace: float,
    poll: float,
) -> AsyncIterator[T]:
    """Items after `after` in sequence order: stored ones first, then live ones."""
    loop = asyncio.get_running_loop()
    merge: _Merge[T] = _Merge(after)
    pump = asyncio.create_task(merge.pump(live))
    gap_since: float | None = None
    try:
        async for entry in replay(after):
            merge.add(entry)
            for item in merge.ready():
                yield item
        while True:
            if merge.failure is not None:
                raise merge.failure
            merge.arrived.clear()  # before delivering: what arrives meanwhile wakes the wait
            for item in merge.ready():
                yield item
            timeout = grace / 4 if merge.gap else poll
            try:
                await asyncio.wait_for(merge.arrived.wait(), timeout)
                idle = False
            except TimeoutError:
                idle = True
            if idle or merge.gap:  # the store has what the broker lost or has not carried yet
                async for entry in replay(merge.expected - 1):
                    merge.add(entry)
            if merge.gap:
                gap_since = gap_since if gap_since is not None else loop.time()
                if loop.time() - gap_since >= grace:
                    merge.expected = min(merge.pending)  # never stored: its writer died
            else:
                gap_since = None
    finally:
        pump.cancel()
