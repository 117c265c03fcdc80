"""Seeded price history: one-minute bars per instrument ending now, on the simulated GBM path.

The path is drawn backwards from the instrument's current price, so the last seeded bar closes
where the live feed goes on from. Drawing is vectorised with numpy and the bars are stored as
integer columns, a UTC day per document (markets/day_bars.py), read as built bars (the ones
ticks make), so candles, indicators, backtests and session statistics read them like any
other history.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from tradegraph import time_buckets
from tradegraph.decimals import step_places
from tradegraph.documents import CandleBar, CandleInterval, Instrument
from tradegraph.documents.markets import BUILT
from tradegraph.markets import bars, day_bars
from tradegraph.markets.day_columns import BarColumns, as_utc

MINUTE = CandleInterval.ONE_MINUTE.seconds
MINUTES_PER_YEAR = 365 * 24 * 60


def draw_path(
    end_price: float, minutes: int, drift: float, volatility: float, rng: np.random.Generator
) -> np.ndarray:
    """Closes of `minutes` one-minute bars on a GBM whose last close is `end_price`."""
    dt = 1 / MINUTES_PER_YEAR
    steps = (drift - volatility**2 / 2) * dt + volatility * math.sqrt(dt) * rng.standard_normal(
        minutes
    )
    levels = np.cumsum(steps)
    closes: np.ndarray = end_price * np.exp(levels - levels[-1])
    return closes


def draw_bars(
    instrument: Instrument,
    end_price: Decimal,
    minutes: int,
    drift: float,
    volatility: float,
    seed: int,
) -> tuple[list[np.ndarray], np.ndarray]:
    """The seeded path of `minutes` bars, oldest first: [opens, highs, lows, closes] as
    unrounded floats, and volumes in whole lots (the same draws for a seed and symbol)."""
    rng = np.random.default_rng(seed ^ zlib.crc32(instrument.symbol.encode()))
    closes = draw_path(float(end_price), minutes, drift, volatility, rng)
    opens = np.concatenate(([closes[0]], closes[:-1]))
    wick = np.abs(rng.standard_normal((2, minutes))) * volatility * math.sqrt(1 / MINUTES_PER_YEAR)
    highs = np.maximum(opens, closes) * (1 + wick[0] / 2)
    lows = np.minimum(opens, closes) * (1 - wick[1] / 2)
    volumes = rng.integers(10, 500, minutes).astype(np.int64)
    return [opens, highs, lows, closes], volumes


def history_columns(
    instrument: Instrument,
    end_price: Decimal,
    end: datetime,
    minutes: int,
    drift: float,
    volatility: float,
    seed: int,
) -> BarColumns:
    """`minutes` one-minute bars ending before `end` (aligned), oldest first: prices rounded
    to the tick size's decimals (at least one tick), volumes whole lots."""
    drawn, volumes = draw_bars(instrument, end_price, minutes, drift, volatility, seed)
    places = step_places(instrument.tick_size)
    tick = float(instrument.tick_size)
    first = time_buckets.bucket_start(end, MINUTE) - timedelta(minutes=minutes)
    first_minute = (first - time_buckets.EPOCH) // timedelta(minutes=1)
    # The float nearest each price rounded to `places` decimals, scaled: an exact integer of
    # units (10^-places), the price its decimal text would have given.
    prices = [
        np.rint(np.maximum(np.round(c, places), tick) * 10**places).astype(np.int64) for c in drawn
    ]
    return BarColumns(
        minutes=np.arange(first_minute, first_minute + minutes, dtype=np.int64),
        open=prices[0],
        high=prices[1],
        low=prices[2],
        close=prices[3],
        volume=volumes,
        price_unit=Decimal(1).scaleb(-places),
        volume_unit=instrument.lot_size,
    )


async def _earliest_bar(symbol: str, now: datetime) -> tuple[datetime, Decimal] | None:
    """(start, open) of the symbol's earliest stored one-minute bar, built or seeded."""
    # The bound on start lets a store answer from its (symbol, interval, start) index.
    built = await CandleBar.get_pymongo_collection().find_one(
        {
            "symbol": symbol,
            "interval": CandleInterval.ONE_MINUTE.value,
            "source": BUILT,
            "start": {"$lte": now},
        },
        sort=[("start", 1)],
    )
    found = [(as_utc(built["start"]), bars.bar_open(built))] if built else []
    seeded = await day_bars.earliest_bar(symbol, now)
    found += [seeded] if seeded else []
    return min(found, key=lambda bar: bar[0]) if found else None


async def seed_history(
    prices: dict[str, tuple[Instrument, Decimal]],
    days: int,
    drift: float,
    volatility: float,
    seed: int = 7,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Stores `days` of one-minute bars per instrument (symbol -> instrument, current price)
    ending where its stored bars begin (the live feed's first minute), or now, a UTC day per
    document (markets/day_bars.py). Instruments with more than a day of bars are left alone.
    Returns how many bars were stored."""
    now = datetime.now(UTC)
    minutes = days * 24 * 60
    stored = 0
    for symbol, (instrument, price) in prices.items():
        earliest = await _earliest_bar(symbol, now)
        end = now
        if earliest is not None:
            end, price = earliest
        if end < now - timedelta(days=1):  # seeded before
            if progress:
                progress(minutes)
            continue
        # A month of one symbol is 43,200 bars, ~2 MB of columns: drawn at once (a few ms of
        # the event loop), stored as ~31 documents in one bulk write.
        made = history_columns(instrument, price, end, minutes, drift, volatility, seed)
        stored += await day_bars.store_days(symbol, made)
        if progress:
            progress(minutes)
    return stored
