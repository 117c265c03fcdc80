"""Seeded one-minute bars in the store, a UTC day per document (`candle_days`).

A month of bars for the demo universe is ~570 documents instead of 820,800: writing them is a
few hundred inserts, reading a range is one index scan over (symbol, interval, day) and numpy
over the columns (markets/day_columns.py). Readers treat these bars as built bars: candles,
session statistics and the start of seeded history combine them with the bars stored one per
document (markets/bar_groups.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from pymongo import UpdateOne

from tradegraph.documents import CandleDay, CandleInterval
from tradegraph.markets.bar_groups import BarGroup
from tradegraph.markets.day_columns import (
    BarColumns,
    day_columns,
    day_documents,
    day_start,
    groups,
    joined,
    whole,
)

log = structlog.get_logger(__name__)
ONE_MINUTE = CandleInterval.ONE_MINUTE.value
_KEY = ("symbol", "interval", "day")


def _key(symbol: str, day: Any) -> dict[str, Any]:
    """A filter on the unique index (symbol, interval, day); `day` a date or a condition."""
    return {"symbol": symbol, "interval": ONE_MINUTE, "day": day}


async def store_days(symbol: str, bars: BarColumns) -> int:
    """Stores `bars` in their day documents, joining a day already stored (its bars win);
    returns how many bars were added."""
    collection = CandleDay.get_pymongo_collection()
    documents = day_documents(symbol, bars)
    if not documents:
        return 0
    days = [document["day"] for document in documents]
    stored = {
        day_start(found["day"]): found
        async for found in collection.find(_key(symbol, {"$in": days}))
    }
    writes, added = [], 0
    for document in documents:
        before = stored.get(document["day"])
        if before is not None:  # rare: history seeded twice into one day
            kept = day_columns(before)
            both = joined(kept, day_columns(document))
            if both is None:
                log.warning("seeded day kept: units differ", symbol=symbol, day=document["day"])
                continue
            (document,) = day_documents(symbol, both)
            added -= len(kept)
        added += document["bars"]
        # $set, not a replacement: the emulation's bulk writes take no ReplaceOne
        fields = {name: value for name, value in document.items() if name not in _KEY}
        writes.append(UpdateOne(_key(symbol, document["day"]), {"$set": fields}, upsert=True))
    if writes:
        await collection.bulk_write(writes, ordered=False)
    return added


async def read_day_list(
    symbol: str, first: datetime, to: datetime | None = None
) -> list[BarColumns]:
    """The stored bars starting in [first, to) (to: no end), one BarColumns per day, oldest
    first."""
    days = {"$gte": day_start(first)} | ({} if to is None else {"$lt": to})
    cursor = CandleDay.get_pymongo_collection().find(_key(symbol, days), sort=[("day", 1)])
    found = [day_columns(document).between(first, to) async for document in cursor]
    return [bars for bars in found if len(bars)]


async def day_groups(
    symbol: str, first: datetime, to: datetime, interval: CandleInterval
) -> dict[datetime, BarGroup]:
    """Stored day bars over [first, to) grouped into `interval` buckets. A bucket never spans
    two days (every interval divides a day), so each is whole within one document."""
    found: dict[datetime, BarGroup] = {}
    for bars in await read_day_list(symbol, first, to):
        found.update(groups(bars, interval.seconds // 60))
    return found


async def session_part(symbol: str, start: datetime) -> BarGroup | None:
    """The day bars since `start` as one group (None: no bar since)."""
    since = None
    for bars in await read_day_list(symbol, start):
        since = whole(bars) if since is None else since.merged(whole(bars))
    return since


async def latest_day_bars(symbol: str, first: datetime, moment: datetime) -> BarColumns | None:
    """The stored bars starting in [first, moment) of the latest day that has any: one day
    document read, two when the day holding `moment` has no bar before it."""
    collection = CandleDay.get_pymongo_collection()
    days = {"$gte": day_start(first), "$lt": moment}
    newest = await collection.find_one(_key(symbol, days), sort=[("day", -1)])
    found = _bars_in(newest, first, moment)
    if found is None and newest is not None and day_start(newest["day"]) == day_start(moment):
        # That day's bars all start at or after `moment`: the day before has the latest.
        days["$lt"] = newest["day"]
        found = _bars_in(
            await collection.find_one(_key(symbol, days), sort=[("day", -1)]), first, moment
        )
    return found


def _bars_in(document: dict[str, Any] | None, first: datetime, to: datetime) -> BarColumns | None:
    """The bars of a day document starting in [first, to), None when there are none."""
    if document is None:
        return None
    bars = day_columns(document).between(first, to)
    return bars if len(bars) else None


async def earliest_bar(symbol: str, before: datetime) -> tuple[datetime, Decimal] | None:
    """(start, open) of the earliest stored day bar starting at or before `before`."""
    document = await CandleDay.get_pymongo_collection().find_one(
        _key(symbol, {"$lte": before}), sort=[("day", 1)]
    )
    if document is None:
        return None
    bars = day_columns(document)
    return (bars.start(0), bars.price("open", 0)) if bars.start(0) <= before else None
