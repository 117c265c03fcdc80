"""A live feed a client can resume: replay from the store after its cursor, then live, in
cursor order, with no gap and no duplicate at the seam.

The caller subscribes to the live channel FIRST; a pump moves whatever it delivers into a
buffer keyed by sequence number while the store is replayed ONCE after the cursor (from an
index over the caller's own entries, at most `limit` of them: more is refused), so nothing
published during the replay is missed and nothing is delivered twice. Numbers go out in order:
a number that is missing while later ones are here (a writer in another process not done yet,
or a message the broker lost) is looked up in the store; after `grace` seconds without it, it
is skipped (a writer died between taking the number and storing the entry). An entry that
turns up after its number was passed (still being written at the seam, or slower than the
grace) is delivered late rather than lost. An idle subscriber reads nothing: the process's
shared FeedWatch nudges it when its sequence handed out a number it never received (a message
the broker lost while nothing followed it). A subscriber more than MAX_BUFFERED entries
behind is ended with SubscriberTooSlow: it resumes from its last cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from tradegraph.errors import InvalidInput, SubscriberTooSlow
from tradegraph.sequences import Replay, ReplayPage, Sequenced
from tradegraph.subscriptions.feed_watch import FeedWatch

T = TypeVar("T")
MAX_BUFFERED = 10_000
REMEMBERED = 4_096  # numbers delivered lately: an entry found twice (store and live) goes once


def too_slow() -> SubscriberTooSlow:
    return SubscriberTooSlow(
        f"more than {MAX_BUFFERED} messages were waiting for this subscriber; "
        "subscribe again with `after` set to the last cursor received"
    )


def replay_too_long(limit: int, hint: str) -> InvalidInput:
    return InvalidInput(
        f"more than {limit} messages were stored after this cursor, the most a feed replays "
        f"(TRADEGRAPH_FEED_MAX_REPLAY): {hint}, then subscribe with a newer cursor",
        field="after",
    )


class _Merge(Generic[T]):
    """The buffer both paths fill, and the next number to deliver."""

    def __init__(self, after: int) -> None:
        self.after = after  # the client's cursor: nothing at or before it is sent
        self.expected = after + 1
        self.pending: dict[int, T | None] = {}
        self.late: list[T] = []
        self.delivered: OrderedDict[int, None] = OrderedDict()
        self.arrived = asyncio.Event()
        self.failure: BaseException | None = None
        self.announced = after  # the highest number the shared watch says was handed out
        self.nudged = False

    def add(self, entry: Sequenced[T]) -> None:
        if entry.seq >= self.expected:
            self.pending.setdefault(entry.seq, entry.item)
        elif entry.item is not None and entry.seq > self.after and entry.seq not in self.delivered:
            self.late.append(entry.item)  # passed over while it was being written: once, late
            self._remember(entry.seq)
        if len(self.pending) > MAX_BUFFERED:
            raise too_slow()

    def settle(self, page: ReplayPage[T]) -> None:
        """Adds a replayed page; numbers up to its `through` are no longer waited for."""
        for entry in page.entries:
            self.add(entry)
        for seq in sorted(s for s in self.pending if s <= page.through):
            item = self.pending.pop(seq)
            if item is not None:
                self.late.append(item)  # in order: these are the next ones
                self._remember(seq)
        self.expected = max(self.expected, page.through + 1)

    def ready(self) -> list[T]:
        out, self.late = self.late, []
        while self.expected in self.pending:
            item = self.pending.pop(self.expected)
            if item is not None:
                out.append(item)
                self._remember(self.expected)
            self.expected += 1
        return out

    def _remember(self, seq: int) -> None:
        self.delivered[seq] = None
        if len(self.delivered) > REMEMBERED:
            self.delivered.popitem(last=False)

    @property
    def position(self) -> int:
        return self.expected - 1

    @property
    def gap(self) -> bool:
        return bool(self.pending) and self.expected not in self.pending

    @property
    def behind(self) -> bool:
        return self.gap or self.announced > self.position

    def nudge(self, counter: int) -> None:
        self.announced = max(self.announced, counter)
        self.nudged = True
        self.arrived.set()

    def skip_missing(self) -> None:
        """Gives up on the numbers being waited for: their writers died."""
        self.expected = min(self.pending) if self.pending else self.announced + 1

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
    feed: ResumeRules,
) -> AsyncIterator[T]:
    """Items after `after` in sequence order: stored ones first, then live ones."""
    merge: _Merge[T] = _Merge(after)
    pump = asyncio.create_task(merge.pump(live))
    try:
        page = await replay(after)
        if len(page.entries) > feed.limit:
            raise replay_too_long(feed.limit, feed.hint)
        merge.settle(page)
        with feed.watch.follow(feed.sequence, lambda: merge.position, merge.nudge):
            async for item in _follow(merge, replay, feed):
                yield item
    finally:
        pump.cancel()


async def _follow(merge: _Merge[T], replay: Replay[T], feed: ResumeRules) -> AsyncIterator[T]:
    loop = asyncio.get_running_loop()
    stalled_since: float | None = None
    while True:
        if merge.failure is not None:
            raise merge.failure
        merge.arrived.clear()  # before delivering: what arrives meanwhile wakes the wait
        for item in merge.ready():
            yield item
        # Idle: no timeout, no reads. A gap is looked up a few times within its grace.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(merge.arrived.wait(), feed.grace / 4 if merge.gap else None)
        if merge.gap or merge.nudged:  # the store has what the broker lost or is still carrying
            merge.nudged = False
            page = await replay(merge.position)
            if len(page.entries) > feed.limit:
                raise too_slow()
            merge.settle(page)
        if not merge.behind:
            stalled_since = None
            continue
        stalled_since = stalled_since if stalled_since is not None else loop.time()
        if loop.time() - stalled_since >= feed.grace:
            merge.skip_missing()
            stalled_since = None


@dataclass(frozen=True)
class ResumeRules:
    """How one resumable feed resumes: its sequence, the shared watch, the limits."""

    sequence: str
    watch: FeedWatch
    grace: float
    limit: int  # the most entries one replay sends
    hint: str  # what to do instead of a replay too long to send
