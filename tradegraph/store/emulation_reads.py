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

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

from mongomock import helpers

from tradegraph.store import emulation_split
from tradegraph.store.emulation_lane import between_steps, long_lane

RunInStore = Callable[..., Any]
_CLOCK_EVERY = 32  # documents between looks at the clock


class _Reading:
    """A cursor's results being computed: mongomock's generator, and what it gave so far."""

    def __init__(self, cursor: Callable[[], Any], first_only: bool = False) -> None:
        self.open_cursor = cursor  # in the store thread: building one validates the query
        self.cursor: Any = None
        self.first_only = first_only
        self.wanted: int | None = None  # how many results to pull; None: every one
        self.source: Iterator[Any] | None = None
        self.results: list[Any] = []

    def step(self) -> bool:
        """Pulls results for STEP_SECONDS (store thread); True when there are no more (or as
        many as wanted)."""
        if self.source is None:
            self.cursor = self.open_cursor()
            self.source = iter(self.cursor._factory())
            if self.first_only:  # the first result after skip
                self.wanted = (self.cursor._skip or 0) + 1
        aware = bool(self.cursor.collection.codec_options.tz_aware)
        deadline = time.perf_counter() + emulation_split.STEP_SECONDS
        while True:
            size = _CLOCK_EVERY
            if self.wanted is not None:
                size = min(size, self.wanted - len(self.results))
            batch = list(itertools.islice(self.source, size))
            if aware:  # as Cursor._compute_results does
                batch = [helpers.make_datetime_timezone_aware_in_document(d) for d in batch]
            self.results += batch
            if len(batch) < size or len(self.results) == self.wanted:
                return True
            if time.perf_counter() >= deadline:
                return False

    async def run(self, run_in_store: RunInStore) -> list[Any]:
        """Every step; those after the first in the long lane (more than one step: a long
        call, taking its turn)."""
        done = await run_in_store(self.step)
        if not done:
            async with long_lane():
                while not done:
                    await between_steps(emulation_split.STEP_SECONDS)  # the loop's turn
                    done = await run_in_store(self.step)
        return self.results


def _computed(cursor: Any) -> bool:
    return bool(cursor._results) and cursor._factory_last_generated_results == cursor._factory


async def compute_in_steps(cursor: Any, run_in_store: RunInStore) -> bool:
    """Computes a mongomock cursor's results (unless it has them) in store-thread steps, only
    as far as skip + limit when it has a limit; False when there are none (mongomock would
    compute an empty result again on every read, in one call: the caller answers at once
    instead)."""
    if _computed(cursor):
        return True
    reading = _Reading(lambda: cursor)
    limit = abs(cursor._limit or 0)
    if limit:
        reading.wanted = (cursor._skip or 0) + limit
        # Partial results: a later computation without the limit (emulation_sorting's
        # _compute_results) computes them all again instead of taking these.
        cursor.__dict__["_tradegraph_partial"] = True
    cursor._results = await reading.run(run_in_store)
    cursor._factory_last_generated_results = cursor._factory
    return bool(cursor._results)


async def first_result(find: Callable[[], Any], run_in_store: RunInStore) -> Any:
    """What mongomock's find_one answers: the first result (after skip) of the cursor `find`
    opens, or None, reading no further than that result (mongomock computes and copies every
    match first)."""
    reading = _Reading(find, first_only=True)
    results = await reading.run(run_in_store)
    skip = reading.cursor._skip or 0
    return results[skip] if len(results) > skip else None


def _page(cursor: Any) -> list[Any]:
    """The computed results after skip and limit, sliced once per cursor (mongomock slices
    them again for every document it hands out: quadratic over a large result)."""
    cached = cursor.__dict__.get("_tradegraph_page")
    shape = (cursor._skip, cursor._limit)
    if cached is None or cached[0] is not cursor._results or cached[1] != shape:
        # Sliced as mongomock's _compute_results(with_limit_and_skip=True) does, from the
        # results computed in the store thread: nothing is read again here, on the loop.
        sliced: list[Any] = cursor._results[cursor._skip or 0 :]
        if cursor._limit:
            sliced = sliced[: abs(cursor._limit)]
        cached = (cursor._results, shape, sliced)
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
