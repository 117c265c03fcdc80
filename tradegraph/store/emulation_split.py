# mypy: disable-error-code="no-untyped-call"
"""Long aggregations split into short store-thread calls, so no call waits long behind one.

Every emulation call runs in the one store thread (emulation_thread.py). An aggregation over a
large collection (event summaries, a month of bars grouped by day) used to run there in one
call of hundreds of milliseconds, holding every other call (a login, an order) behind it. As
MongoDB yields a long query between batches, an aggregation starting with `$match` over more
than SPLIT_ABOVE candidate documents is now run in steps: the candidates are taken (references,
cheap), then matched and copied CHUNK at a time, one store-thread call each; the rest of the
pipeline runs on those copies in a worker thread, outside the store. Like a yielding MongoDB
query, a document changed between two steps is read as it is when its step runs; one deleted
before its step is left out. Pipelines that read other collections or write ($lookup,
$graphLookup, $unionWith, $out, $merge) run in one call as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import mongomock.aggregate
from mongomock import helpers
from mongomock.filtering import filter_applies

from tradegraph.store.emulation_copies import read_copy
from tradegraph.store.emulation_lookups import candidates, quick_filter

SPLIT_ABOVE = 5_000  # candidate documents; below, one call is short anyway
CHUNK = 500  # documents matched and copied per store-thread call (a few ms)
_NOT_SPLIT = frozenset({"$lookup", "$graphLookup", "$unionWith", "$out", "$merge"})

RunInStore = Callable[..., Any]


def _reads_elsewhere(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key in _NOT_SPLIT or _reads_elsewhere(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_reads_elsewhere(item) for item in value)
    return False


def _candidates(collection: Any, pipeline: list[Any]) -> tuple[Any, list[Any]] | None:
    """The filter and the documents a split aggregation walks (store thread), or None: run
    it in one call."""
    if not pipeline or not isinstance(pipeline[0], dict) or set(pipeline[0]) != {"$match"}:
        return None
    spec = pipeline[0]["$match"]
    if not isinstance(spec, dict) or _reads_elsewhere(pipeline):
        return None
    spec = helpers.patch_datetime_awareness_in_document(spec)  # as find does
    found = candidates(collection, spec)
    documents = list(collection._store._documents.values()) if found is None else found
    return (spec, documents) if len(documents) > SPLIT_ABOVE else None


def _match_and_copy(collection: Any, spec: Any, documents: list[Any]) -> list[Any]:
    """One step (store thread): the documents still stored that match, copied as find does."""
    stored = collection._store._documents
    aware = bool(collection.codec_options.tz_aware)
    quick = quick_filter(spec)  # plain values compared directly, as the lookups do
    kept = []
    for document in documents:
        key = document.get("_id")
        key = helpers.hashdict(key) if isinstance(key, dict) else key
        if stored.get(key) is not document:
            continue  # deleted (or replaced) since the candidates were taken
        matches = quick(document) if quick is not None else None
        if matches is None:
            matches = filter_applies(spec, document)
        if matches:
            kept.append(read_copy(document, aware))
    return kept


async def split_aggregate(
    collection: Any, pipeline: list[Any], run_in_store: RunInStore
) -> list[Any] | None:
    """The aggregation's results computed in steps, or None when it runs in one call."""
    found = await run_in_store(_candidates, collection, pipeline)
    if found is None:
        return None
    spec, documents = found
    matched: list[Any] = []
    for start in range(0, len(documents), CHUNK):
        chunk = documents[start : start + CHUNK]
        matched += await run_in_store(_match_and_copy, collection, spec, chunk)
    rest = pipeline[1:]
    results: list[Any] = await asyncio.to_thread(
        mongomock.aggregate.process_pipeline, matched, collection.database, rest, None
    )
    return results
