# mypy: disable-error-code="no-untyped-call"
"""Long aggregations split into short store-thread calls, so no call waits long behind one.

Every emulation call runs in the one store thread (emulation_thread.py). An aggregation over a
large collection (event summaries, a month of bars grouped by day) used to run there in one
call of hundreds of milliseconds, holding every other call (a login, an order) behind it. As
MongoDB yields a long query between batches, an aggregation starting with `$match` over more
than SPLIT_ABOVE candidate documents is now run in steps: the candidates are taken (references,
cheap), then matched and copied in steps of STEP_SECONDS, one store-thread call each, long
calls one at a time (emulation_lane.py). A pipeline that groups next (`$group`, or `$facet` of
`$group`s: the events summary) is fed to its groups within the steps (emulation_grouping.py),
and only the groups go on; any other pipeline runs on the copies in a worker thread, outside
the store. Like a yielding MongoDB query, a document changed between two steps is read as it
is when its step runs; one deleted before its step is left out. Pipelines that read other
collections or write ($lookup, $graphLookup, $unionWith, $out, $merge) run in one call as
before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import mongomock.aggregate
from mongomock import helpers
from mongomock.filtering import filter_applies

from tradegraph.store.emulation_copies import read_copy
from tradegraph.store.emulation_grouping import GroupedPipeline
from tradegraph.store.emulation_lane import between_steps, long_lane
from tradegraph.store.emulation_lookups import candidates, quick_filter

SPLIT_ABOVE = 1_000  # candidate documents; below, one call is short anyway (~10 ms)
STEP_SECONDS = 0.003  # store-thread time a step takes before it hands the thread back
_CLOCK_EVERY = 32  # documents between looks at the clock
_NOT_SPLIT = frozenset({"$lookup", "$graphLookup", "$unionWith", "$out", "$merge"})

RunInStore = Callable[..., Any]


def _reads_elsewhere(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key in _NOT_SPLIT or _reads_elsewhere(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_reads_elsewhere(item) for item in value)
    return False


def _candidates(
    collection: Any, pipeline: list[Any], above: int | None = None
) -> tuple[Any, list[Any]] | None:
    """The filter and the documents a split aggregation walks (store thread), or None: run
    it in one call (split only over more than `above` candidates; SPLIT_ABOVE by default)."""
    if not pipeline or not isinstance(pipeline[0], dict) or set(pipeline[0]) != {"$match"}:
        return None
    spec = pipeline[0]["$match"]
    if not isinstance(spec, dict) or _reads_elsewhere(pipeline):
        return None
    spec = helpers.patch_datetime_awareness_in_document(spec)  # as find does
    found = candidates(collection, spec, checked=False)  # _step filters each one
    documents = list(collection._store._documents.values()) if found is None else found
    return (spec, documents) if len(documents) > (SPLIT_ABOVE if above is None else above) else None


def _step(
    collection: Any, spec: Any, documents: list[Any], start: int, take: Callable[[Any], Any]
) -> int:
    """One step (store thread): from `start`, each document still stored that matches is
    handed to `take` (which copies what it keeps), until STEP_SECONDS have passed; returns
    where the next step starts."""
    stored = collection._store._documents
    quick = quick_filter(spec)  # plain values compared directly, as the lookups do
    deadline = time.perf_counter() + STEP_SECONDS
    end = len(documents)
    at = start
    while at < end:
        for document in documents[at : min(end, at + _CLOCK_EVERY)]:
            key = document.get("_id")
            key = helpers.hashdict(key) if isinstance(key, dict) else key
            if stored.get(key) is not document:
                continue  # deleted (or replaced) since the candidates were taken
            matches = quick(document) if quick is not None else None
            if matches is None:
                matches = filter_applies(spec, document)
            if matches:
                take(document)
        at += _CLOCK_EVERY
        if time.perf_counter() >= deadline:
            break
    return min(at, end)


async def split_aggregate(
    collection: Any, pipeline: list[Any], run_in_store: RunInStore
) -> list[Any] | None:
    """The aggregation's results computed in steps, or None when it runs in one call."""
    if await run_in_store(_candidates, collection, pipeline) is None:
        return None
    async with long_lane():  # one long call at a time: a short one waits one step at most
        # Taken again once its turn has come: it reads the documents stored when it runs.
        spec, documents = await run_in_store(_candidates, collection, pipeline, -1)
        rest = pipeline[1:]
        grouped = GroupedPipeline.of(rest)
        matched: list[Any] = []
        aware = bool(collection.codec_options.tz_aware)

        def keep_copy(document: Any) -> None:
            matched.append(read_copy(document, aware))

        # A grouping pipeline keeps no copies: its groups take what they read as it is read.
        take = grouped.reader(aware) if grouped is not None else keep_copy
        at = 0
        while at < len(documents):
            at = await run_in_store(_step, collection, spec, documents, at, take)
            await between_steps(STEP_SECONDS)  # what the loop has ready runs first
        if grouped is not None:
            return await asyncio.to_thread(grouped.result, collection.database)
        results: list[Any] = await asyncio.to_thread(
            mongomock.aggregate.process_pipeline, matched, collection.database, rest, None
        )
        return results
