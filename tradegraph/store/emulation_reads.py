# mypy: disable-error-code="no-untyped-call"
"""Large finds computed in short store-thread steps, as long aggregations are.

mongomock computes a cursor's results in one go when it is first read: the matching documents
found, sorted and copied (with tz_aware, their datetimes put in UTC). A find without a limit
over thousands of documents did all of that in one store-thread call, holding every other call
behind it. Here the cursor's own computation (mongomock's generator of copies, with every
patch on it) is pulled in steps of emulation_split.STEP_SECONDS; a find still running after
its first step continues in the long lane (emulation_lane.py), one long call at a time. What
the cursor hands out is what it would have computed in one call; like a yielding MongoDB
query, a document changed between two steps may be read as it is when its step runs.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

from mongomock import helpers

from tradegraph.store import emulation_split
from tradegraph.store.emulation_lane import long_lane

RunInStore = Callable[..., Any]
_CLOCK_EVERY = 32  # documents between looks at the clock


class _Reading:
    """A cursor's results being computed: mongomock's generator, and what it gave so far."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.source: Iterator[Any] | None = None
        self.results: list[Any] = []
        self.aware = bool(cursor.collection.codec_options.tz_aware)

    def step(self) -> bool:
        """Pulls results for STEP_SECONDS (store thread); True when there are no more."""
        if self.source is None:
            self.source = iter(self.cursor._factory())
        deadline = time.perf_counter() + emulation_split.STEP_SECONDS
        while True:
            batch = list(itertools.islice(self.source, _CLOCK_EVERY))
            if self.aware:  # as Cursor._compute_results does
                batch = [helpers.make_datetime_timezone_aware_in_document(d) for d in batch]
            self.results += batch
            if len(batch) < _CLOCK_EVERY:
                return True
            if time.perf_counter() >= deadline:
                return False


def _computed(cursor: Any) -> bool:
    return bool(cursor._results) and cursor._factory_last_generated_results == cursor._factory


async def compute_in_steps(cursor: Any, run_in_store: RunInStore) -> bool:
    """Computes a mongomock cursor's results (unless it has them) in store-thread steps;
    False when there are none (mongomock would compute an empty result again on every read,
    in one call: the caller answers at once instead)."""
    if _computed(cursor):
        return True
    reading = _Reading(cursor)
    done = await run_in_store(reading.step)
    if not done:
        async with long_lane():  # more than one step: a long call, taking its turn
            while not done:
                await asyncio.sleep(0)  # what the loop has ready runs before the next step
                done = await run_in_store(reading.step)
    cursor._results = reading.results
    cursor._factory_last_generated_results = cursor._factory
    return bool(reading.results)


def _page(cursor: Any) -> list[Any]:
    """The computed results after skip and limit, sliced once per cursor (mongomock slices
    them again for every document it hands out: quadratic over a large result)."""
    cached = cursor.__dict__.get("_tradegraph_page")
    shape = (cursor._skip, cursor._limit)
    if cached is None or cached[0] is not cursor._results or cached[1] != shape:
        cached = (cursor._results, shape, cursor._compute_results(with_limit_and_skip=True))
        cursor.__dict__["_tradegraph_page"] = cached
    page: list[Any] = cached[2]
    return page


def next_result(cursor: Any) -> tuple[bool, Any]:
    """What next(cursor) gives a computed cursor: (True, its next document), or (False, None)
    at the end."""
    page = _page(cursor)
    if cursor._emitted >= len(page):
        return False, None
    document = page[cursor._emitted]
    cursor._emitted += 1
    return True, document


def remaining(cursor: Any) -> list[Any]:
    """What iterating the computed cursor to its end yields (at once: mongomock slices its
    results again for every document it hands out)."""
    page = _page(cursor)
    left = page[cursor._emitted :]
    cursor._emitted = max(cursor._emitted, len(page))
    return list(left)
