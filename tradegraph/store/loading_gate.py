"""Collections still loading after startup: calls on them wait a while, then are refused.

A restart with a seeded month holds ~800,000 bars; decoding them takes longer than anyone
should wait for /healthz or a login. So startup loads everything else, opens the server, and
loads market data (`candles`, `ticks`) in the background (loading.py). Until a collection is
loaded, a call reading or writing its documents waits for it at most `wait_seconds`, then
fails with StoreLoading (SERVICE_UNAVAILABLE, with the seconds to wait before retrying);
index definitions are there from the start, so Beanie's startup checks pass at once.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from tradegraph.errors import ServiceUnavailable


class StoreLoading(ServiceUnavailable):
    """The data this call needs is still being loaded after a restart."""


class LoadingGate:
    """One loading collection: set once its documents (and journal) are in."""

    def __init__(self, name: str, wait_seconds: float, expected_seconds: float) -> None:
        self.name = name
        self.wait_seconds = wait_seconds
        self.done = asyncio.Event()
        self.waited = asyncio.Event()  # set once a call has had to wait
        self.failure: str | None = None
        self._expected_end = time.monotonic() + expected_seconds

    def finish(self, failure: str | None = None) -> None:
        self.failure = failure
        self.done.set()

    def expect(self, seconds_left: float) -> None:
        """Updates the estimate of when loading ends (for Retry-After)."""
        self._expected_end = time.monotonic() + seconds_left

    def _refusal(self) -> StoreLoading:
        if self.failure is not None:
            return StoreLoading(
                f"the stored {self.name} could not be loaded ({self.failure}); see the server log",
                retry_after_seconds=60,
            )
        retry = max(1, math.ceil(self._expected_end - time.monotonic()))
        return StoreLoading(
            f"the server restarted and is still loading its {self.name}; try again in {retry} s",
            retry_after_seconds=retry,
        )

    async def wait(self) -> None:
        if not self.done.is_set():
            self.waited.set()
            try:
                await asyncio.wait_for(self.done.wait(), self.wait_seconds)
            except TimeoutError:
                raise self._refusal() from None
        if self.failure is not None:
            raise self._refusal()


def gate_of(collection_store: Any) -> LoadingGate | None:
    gate: LoadingGate | None = collection_store.__dict__.get("_tradegraph_loading")
    return gate


async def loaded(collection_store: Any) -> None:
    """Returns at once for a loaded collection; waits for (or refuses) a loading one."""
    gate = collection_store.__dict__.get("_tradegraph_loading")
    if gate is not None and (not gate.done.is_set() or gate.failure is not None):
        await gate.wait()
