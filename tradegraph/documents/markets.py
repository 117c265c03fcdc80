"""Instruments, ticks (a time-series collection), the latest quote per symbol, stored candles
(bars one per document, and whole days of seeded bars one document per day)."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

from beanie import DecimalAnnotation, Document
from beanie.odm.settings.timeseries import Granularity, TimeSeriesConfig
from pymongo import ASCENDING, IndexModel


class AssetClass(StrEnum):
    STOCK = "STOCK"
    ETF = "ETF"
    REIT = "REIT"
    CRYPTO = "CRYPTO"
    FX = "FX"
    BOND = "BOND"


class CandleInterval(StrEnum):
    ONE_MINUTE = "ONE_MINUTE"
    FIVE_MINUTES = "FIVE_MINUTES"
    ONE_HOUR = "ONE_HOUR"
    ONE_DAY = "ONE_DAY"

    @property
    def seconds(self) -> int:
        return {"ONE_MINUTE": 60, "FIVE_MINUTES": 300, "ONE_HOUR": 3600, "ONE_DAY": 86400}[
            self.value
        ]


class Instrument(Document):
    symbol: str  # upper case; unique
    name: str
    asset_class: AssetClass
    exchange: str
    currency: str
    tick_size: DecimalAnnotation
    lot_size: DecimalAnnotation
    timezone: str = "UTC"  # IANA name: DAY orders expire at session_close there
    session_close: str = "00:00"  # local HH:MM (BSON has no time type); 00:00 = midnight

    @property
    def close_time(self) -> time:
        return time.fromisoformat(self.session_close)

    class Settings:
        name = "instruments"
        use_revision = False
        indexes = [
            IndexModel([("symbol", ASCENDING)], unique=True, name="symbol_unique"),
            IndexModel([("asset_class", ASCENDING)], name="asset_class"),
        ]


class Tick(Document):
    """One quote as it arrived. Kept for TRADEGRAPH_TICK_RETENTION_SECONDS."""

    symbol: str
    timestamp: datetime
    bid: DecimalAnnotation
    ask: DecimalAnnotation
    mid: DecimalAnnotation
    bid_size: DecimalAnnotation | None = None
    ask_size: DecimalAnnotation | None = None
    volume: DecimalAnnotation | None = None  # traded quantity reported with the quote, if any

    class Settings:
        name = "ticks"
        use_revision = False
        timeseries = TimeSeriesConfig(
            time_field="timestamp",
            meta_field="symbol",
            granularity=Granularity.seconds,
            expire_after_seconds=7 * 24 * 3600,
        )
        indexes = [IndexModel([("symbol", ASCENDING), ("timestamp", ASCENDING)], name="symbol_ts")]


def set_tick_retention(seconds: int) -> None:
    """Applies when the ticks collection is created (the first start on a database)."""
    Tick.Settings.timeseries.expire_after_seconds = seconds


class LatestQuote(Document):
    """The newest quote per symbol (`_id` is the symbol); older arrivals never replace it."""

    id: str  # type: ignore[assignment]
    timestamp: datetime
    bid: DecimalAnnotation
    ask: DecimalAnnotation
    mid: DecimalAnnotation
    bid_size: DecimalAnnotation | None = None
    ask_size: DecimalAnnotation | None = None
    last: DecimalAnnotation | None = None  # last trade price, when the feed reports one

    class Settings:
        name = "latest_quotes"
        use_revision = False


class CandleBar(Document):
    """A stored candle. Bars built from ticks (`source` "ticks") are one minute wide and carry
    their first and last tick as {at, price} so one upsert per tick keeps open and close right
    whatever order ticks arrive in; imported bars (`source` "import", any interval) carry
    open/close and win over built ones for their bucket. Seeded history is stored a day per
    document instead (CandleDay) and read as built bars."""

    symbol: str
    interval: CandleInterval
    start: datetime
    source: str  # BUILT or IMPORTED below
    high: DecimalAnnotation
    low: DecimalAnnotation
    volume: DecimalAnnotation
    open: DecimalAnnotation | None = None  # imported bars
    close: DecimalAnnotation | None = None  # imported bars
    first: dict[str, Any] | None = None  # built bars: {at, price} of the earliest tick
    last: dict[str, Any] | None = None  # built bars: {at, price} of the latest tick
    ticks: int = 0

    class Settings:
        name = "candles"
        use_revision = False
        indexes = [
            IndexModel(
                [
                    ("symbol", ASCENDING),
                    ("interval", ASCENDING),
                    ("start", ASCENDING),
                    ("source", ASCENDING),
                ],
                unique=True,
                name="symbol_interval_start_source_unique",
            )
        ]


class CandleDay(Document):
    """One UTC day of one-minute bars of a symbol (the bucket pattern of MongoDB's time-series
    collections): each column a BSON binary of little-endian integers, one per bar, oldest
    first. A price is its integer times `price_unit`, a volume its integer times
    `volume_unit`; `minute` holds each bar's minute of the day (int16). Read as built bars
    (markets/day_bars.py); a built or imported bar of the same minute or bucket is merged
    with them or wins over them as with any built bar. Columns are `bytes`: raw reads only
    (Beanie's model is here for the collection and its index)."""

    symbol: str
    interval: CandleInterval  # ONE_MINUTE: the width of the bars in the columns
    day: datetime  # UTC midnight
    bars: int  # how many bars the columns hold
    price_unit: DecimalAnnotation
    volume_unit: DecimalAnnotation
    minute: bytes  # int16 little-endian, ascending, unique
    open: bytes  # int64 little-endian (price units)
    high: bytes
    low: bytes
    close: bytes
    volume: bytes  # int64 little-endian (volume units)

    class Settings:
        name = "candle_days"
        use_revision = False
        indexes = [
            IndexModel(
                [("symbol", ASCENDING), ("interval", ASCENDING), ("day", ASCENDING)],
                unique=True,
                name="symbol_interval_day_unique",
            )
        ]


BUILT = "ticks"
IMPORTED = "import"
