"""One shared check per process for messages the broker lost, instead of one poll per
resumable subscriber.

Every `poll` seconds, if anyone follows a sequence, ONE read fetches the counters of all the
sequences followed (the events feed, each followed portfolio's orders). A follower still short
of a number its counter had handed out one check earlier (a message the broker lost, or never
carried: its writer died) is nudged, and only then looks in the store. An idle subscriber that
is up to date costs no store read at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import structlog

from tradegraph.sequences import read_counters

log = structlog.get_logger("tradegraph")


@dataclass(eq=False)
class Follower:
    """A subscriber's place in one sequence, and how to wake it."""

    sequence: str
    position: Callable[[], int]  # every number up to it was delivered or settled
    nudge: Callable[[int], None]  # "the counter has reached N": look in the store
    reported: int | None = None  # the counter at the previous check


class FeedWatch:
    """The shared check; `run` is a background task of the process (services.py)."""

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self.followers: set[Follower] = set()
        self.checks = 0  # store reads made, for tests and metrics

    @contextlib.contextmanager
    def follow(
        self, sequence: str, position: Callable[[], int], nudge: Callable[[int], None]
    ) -> Iterator[Follower]:
        follower = Follower(sequence, position, nudge)
        self.followers.add(follower)
        try:
            yield follower
        finally:
            self.followers.discard(follower)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if not self.followers:
                continue
            try:
                await self.check()
            except Exception:  # the store is unreachable for now: the next check retries
                log.warning("feed watch: could not read the sequence counters", exc_info=True)

    async def check(self) -> None:
        """Nudges every follower short of a number handed out before the previous check (a
        number handed out just now is most likely still on its way through the broker)."""
        followers = list(self.followers)
        self.checks += 1
        counters = await read_counters({f.sequence for f in followers})
        for follower in followers:
            counter = counters.get(follower.sequence, 0)
            previous, follower.reported = follower.reported, counter
            if previous is not None and follower.position() < previous:
                follower.nudge(previous)
