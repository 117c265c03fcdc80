"""Stored candles: one-minute bars upserted as ticks arrive, longer intervals read from them.

A built bar is one document per symbol and minute in the `candles` collection, written with a
single upsert per tick whose operators ($min, $max, $inc, $setOnInsert) give the same bar
whatever order its ticks arrive in: open and close are the earliest and latest tick as
{at, price} documents, which BSON compares field by field. Imported history lives in the same
collection (`source` "import") and wins over a built bar of the same bucket. Reads cost one
document per minute of the range, however many ticks were stored. Seeded history is stored a
day per document (markets/day_bars.py) and read as built bars beside these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import Decimal128
from pymongo import UpdateOne

from tradegraph import time_buckets
from tradegraph.decimals import ZERO, stored, to_decimal
from tradegraph.documents import CandleBar, CandleInterval
from tradegraph.documents.markets import BUILT, IMPORTED
from tradegraph.markets.bar_groups import BarGroup
from tradegraph.time_buckets import EPOCH

BAR_SECONDS = CandleInterval.ONE_MINUTE.seconds


def bar_update(
    symbol: str, moment: datetime, price: Decimal, volume: Decimal | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The filter and update that fold one tick into its one-minute bar (upsert)."""
    start = time_buckets.bucket_start(moment, BAR_SECONDS)
    mark = {"at": moment, "price": stored(price)}
    match = {
        "symbol": symbol,
        "interval": CandleInterval.ONE_MINUTE.value,
        "start": start,
        "source": BUILT,
    }
    update = {
        "$min": {"first": mark, "low": stored(price)},
        "$max": {"last": mark, "high": stored(price)},
        "$inc": {"volume": stored(volume or ZERO), "ticks": 1},
    }
    return match, update


async def record_tick(
    symbol: str, moment: datetime, price: Decimal, volume: Decimal | None
) -> None:
    """One write: the tick's minute bar gains it (created by the first tick)."""
    match, update = bar_update(symbol, moment, price, volume)
    await CandleBar.get_pymongo_collection().update_one(match, update, upsert=True)


# A bar's open and close: a bar built from ticks has its first and last tick as {at, price};
# a seeded one (markets/history.py) has them as plain fields, like an imported bar.
OPEN = {"$ifNull": ["$open", "$first.price"]}
CLOSE = {"$ifNull": ["$close", "$last.price"]}


def bar_open(bar: dict[str, Any]) -> Decimal:
    """The open of a stored bar document (see OPEN)."""
    return to_decimal(bar["open"] if bar.get("open") is not None else bar["first"]["price"])


def bar_close(bar: dict[str, Any]) -> Decimal:
    """The close of a stored bar document (see CLOSE)."""
    return to_decimal(bar["close"] if bar.get("close") is not None else bar["last"]["price"])


def built_pipeline(
    symbol: str, first: datetime, to: datetime, interval: CandleInterval
) -> list[dict[str, Any]]:
    """Built one-minute bars over [first, to) grouped into `interval` buckets."""
    since_epoch = {"$subtract": ["$start", EPOCH]}  # date - date = milliseconds
    start = {"$subtract": ["$start", {"$mod": [since_epoch, interval.seconds * 1000]}]}
    return [
        {
            "$match": {
                "symbol": symbol,
                "interval": CandleInterval.ONE_MINUTE.value,
                "source": BUILT,
                "start": {"$gte": first, "$lt": to},
            }
        },
        {"$sort": {"start": 1}},
        {
            "$group": {
                "_id": start,
                "open": {"$first": OPEN},
                "high": {"$max": "$high"},
                "low": {"$min": "$low"},
                "close": {"$last": CLOSE},
                "volume": {"$sum": "$volume"},
                "first": {"$min": "$start"},
                "last": {"$max": "$start"},
            }
        },
        {"$sort": {"_id": 1}},
    ]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def built_groups(
    symbol: str, first: datetime, to: datetime, interval: CandleInterval
) -> dict[datetime, BarGroup]:
    """Candles built from ticks over [first, to) by start, with their first and last bar."""
    collection = CandleBar.get_pymongo_collection()
    cursor = await collection.aggregate(built_pipeline(symbol, first, to, interval))
    found = {}
    for row in await cursor.to_list():
        start = _utc(row["_id"])
        found[start] = BarGroup(
            start=start,
            first=_utc(row["first"]),
            last=_utc(row["last"]),
            open=to_decimal(row["open"]),
            high=to_decimal(row["high"]),
            low=to_decimal(row["low"]),
            close=to_decimal(row["close"]),
            volume=to_decimal(row["volume"] or 0),
        )
    return found


async def imported_rows(
    symbol: str, first: datetime, to: datetime, interval: CandleInterval
) -> list[dict[str, Any]]:
    """Rows of imported `interval` candles over [first, to)."""
    cursor = CandleBar.get_pymongo_collection().find(
        {
            "symbol": symbol,
            "interval": interval.value,
            "source": IMPORTED,
            "start": {"$gte": first, "$lt": to},
        }
    )
    return [
        {
            "start": row["start"].astimezone(UTC),
            **{k: to_decimal(row[k]) for k in ("open", "high", "low", "close", "volume")},
        }
        for row in await cursor.to_list()
    ]


def _decimal128(value: Any) -> Any:
    return value if isinstance(value, Decimal128) else stored(value)


def import_write(symbol: str, interval: CandleInterval, row: dict[str, Any]) -> UpdateOne:
    """An upsert storing one imported candle unless the same bucket was imported before."""
    start = row["start"].astimezone(UTC)
    values = {
        "symbol": symbol,
        "interval": interval.value,
        "start": start,
        "source": IMPORTED,
        **{k: _decimal128(row[k]) for k in ("open", "high", "low", "close", "volume")},
        "ticks": 0,
    }
    return UpdateOne(
        {"symbol": symbol, "interval": interval.value, "start": start, "source": IMPORTED},
        {"$setOnInsert": values},
        upsert=True,
    )


OLD_IMPORTED_COLLECTION = "imported_candles"


async def migrate_imported_candles(database: Any) -> int:
    """Moves candles imported before bars were stored (collection `imported_candles`) into
    the `candles` collection, then drops the old collection; returns how many moved."""
    if OLD_IMPORTED_COLLECTION not in await database.list_collection_names():
        return 0
    old = database[OLD_IMPORTED_COLLECTION]
    writes = [
        import_write(row["symbol"], CandleInterval(row["interval"]), row)
        for row in await old.find({}).to_list()
    ]
    if writes:
        await CandleBar.get_pymongo_collection().bulk_write(writes, ordered=False)
    await old.drop()
    return len(writes)
