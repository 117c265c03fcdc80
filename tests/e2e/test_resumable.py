"""subscriptions/resumable.py on its own (no server): the seam between the replay and the
live feed, delivery in cursor order, lost live messages found in the store, and numbers that
were never stored skipped after the grace period, and a message lost while idle found only
when the shared watch nudges (an idle subscriber reads nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from tradegraph.sequences import ReplayPage, Sequenced
from tradegraph.subscriptions.feed_watch import FeedWatch
from tradegraph.subscriptions.resumable import ResumeRules, resume

GRACE = 0.2
POLL = 0.05
LIMIT = 100


class Feed:
    """A stand-in for the store and the live channel."""

    def __init__(self) -> None:
        self.stored: dict[int, str] = {}
        self.live: asyncio.Queue[list[Sequenced[str]]] = asyncio.Queue()
        self.reads = 0
        self.watch = FeedWatch(POLL)

    async def replay(self, after: int) -> ReplayPage[str]:
        self.reads += 1
        found = [Sequenced(seq, self.stored[seq]) for seq in sorted(self.stored) if seq > after]
        return ReplayPage(found[: LIMIT + 1], after)

    def resume(self, after: int, grace: float = GRACE) -> AsyncGenerator[str, None]:
        rules = ResumeRules("feed", self.watch, grace, LIMIT, "list them")
        stream = resume(self.channel(), self.replay, after, rules)
        assert isinstance(stream, AsyncGenerator)  # an async generator: the test closes it
        return stream

    def nudge(self) -> None:
        """What the shared watch does when the counter is ahead of a follower."""
        top = max(self.stored)
        for follower in self.watch.followers:
            if follower.position() < top:
                follower.nudge(top)

    async def channel(self) -> AsyncIterator[list[Sequenced[str]]]:
        while True:
            yield await self.live.get()

    def write(self, seq: int, publish: bool = True) -> None:
        self.stored[seq] = f"m{seq}"
        if publish:
            self.live.put_nowait([Sequenced(seq, f"m{seq}")])


async def take(stream: AsyncIterator[str], count: int) -> list[str]:
    async with asyncio.timeout(5):
        return [await anext(stream) for _ in range(count)]


async def test_the_seam_has_no_gap_and_no_duplicate() -> None:
    feed = Feed()
    for seq in range(1, 6):
        feed.write(seq)  # stored and published before the replay reads: both paths have them
    stream = feed.resume(2)
    assert await take(stream, 3) == ["m3", "m4", "m5"]
    feed.write(6)
    assert await take(stream, 1) == ["m6"]
    await stream.aclose()


async def test_later_numbers_wait_for_an_earlier_one_still_being_written() -> None:
    feed = Feed()
    stream = feed.resume(0, grace=5.0)
    first = asyncio.ensure_future(take(stream, 2))
    feed.live.put_nowait([Sequenced(2, "m2")])  # another process's 2 overtook our 1
    await asyncio.sleep(POLL * 3)
    assert not first.done()
    feed.write(1)
    assert await first == ["m1", "m2"]
    await stream.aclose()


async def test_a_message_the_broker_lost_comes_from_the_store() -> None:
    feed = Feed()
    stream = feed.resume(0)
    pending = asyncio.ensure_future(take(stream, 1))
    while not feed.watch.followers:  # noqa: ASYNC110 - replayed (nothing yet), now following
        await asyncio.sleep(0)
    feed.write(1, publish=False)
    await asyncio.sleep(POLL * 3)
    assert not pending.done()
    assert feed.reads == 1  # no poll of its own: an idle subscriber reads nothing
    feed.nudge()
    assert await pending == ["m1"]
    feed.write(2, publish=False)
    feed.write(3)  # the gap at 2 is looked up at once
    assert await take(stream, 2) == ["m2", "m3"]
    await stream.aclose()


async def test_a_number_never_stored_is_skipped_after_the_grace_period() -> None:
    feed = Feed()
    stream = feed.resume(0)
    feed.write(2)  # 1 was taken by a writer that died
    feed.live.put_nowait([Sequenced(3, None)])  # filtered out for this subscriber
    feed.write(4)
    assert await take(stream, 2) == ["m2", "m4"]
    await stream.aclose()
