"""Seeded price history: one-minute bars per instrument ending now, on the simulated GBM path.

The path is drawn backwards from the instrument's current price, so the last seeded bar closes
where the live feed goes on from, and written as built bars (the ones ticks make), so candles,
indicators, backtests and session statistics read it like any other history. Drawing is
vectorised with numpy; bars go to the store in batches.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

import numpy as np
from bson import Decimal128

from tradegraph import time_buckets
from tradegraph.documents import CandleBar, CandleInterval, Instrument
from tradegraph.documents.markets import BUILT
from tradegraph.markets import bars

MINUTE = CandleInterval.ONE_MINUTE.seconds
MINUTES_PER_YEAR = 365 * 24 * 60
BATCH = 1_000  # about 0.1 s of the emulation's worker thread per batch


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 2


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


def history_bars(
    instrument: Instrument,
    end_price: Decimal,
    end: datetime,
    minutes: int,
    drift: float,
    volatility: float,
    seed: int,
) -> Iterator[dict[str, Any]]:
    """The raw documents of `minutes` built one-minute bars ending before `end` (aligned),
    oldest first, made as they are consumed (a month of bars is never all in memory)."""
    rng = np.random.default_rng(seed ^ zlib.crc32(instrument.symbol.encode()))
    closes = draw_path(float(end_price), minutes, drift, volatility, rng)
    opens = np.concatenate(([closes[0]], closes[:-1]))
    wick = np.abs(rng.standard_normal((2, minutes))) * volatility * math.sqrt(1 / MINUTES_PER_YEAR)
    highs = np.maximum(opens, closes) * (1 + wick[0] / 2)
    lows = np.minimum(opens, closes) * (1 - wick[1] / 2)
    places = _decimals(instrument.tick_size)
    tick = float(instrument.tick_size)
    lot = instrument.lot_size
    volumes = rng.integers(10, 500, minutes)
    first = time_buckets.bucket_start(end, MINUTE) - timedelta(minutes=minutes)
    columns = [np.maximum(np.round(c, places), tick) for c in (opens, highs, lows, closes)]
    # Prices and volumes repeat (a month moves over a few thousand ticks): one Decimal128 per
    # value, since building one costs more than the rest of the bar.
    decimals: dict[str, Decimal128] = {}

    def number(text: str) -> Decimal128:
        found = decimals.get(text)
        if found is None:
            found = decimals[text] = Decimal128(text)
        return found

    for i, (o, h, lo, c) in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
        start = first + timedelta(minutes=i)
        price = [number(f"{v:.{places}f}") for v in (o, h, lo, c)]
        yield {
            "symbol": instrument.symbol,
            "interval": CandleInterval.ONE_MINUTE.value,
            "start": start,
            "source": BUILT,
            # open/close as plain fields, not first/last {at, price} documents (readers take
            # either: bars.OPEN, bars.CLOSE), and no "ticks" (none was recorded; CandleBar
            # reads 0): in the emulation a bar is then one dictionary of ten fields (272
            # bytes) instead of three (464 + 2 x 184)
            "open": price[0],
            "high": price[1],
            "low": price[2],
            "close": price[3],
            "volume": number(str(lot * int(volumes[i]))),
        }


async def _earliest_bar(symbol: str, now: datetime) -> dict[str, Any] | None:
    # The bound on start lets a store answer from its (symbol, interval, start) index.
    found: dict[str, Any] | None = await CandleBar.get_pymongo_collection().find_one(
        {
            "symbol": symbol,
            "interval": CandleInterval.ONE_MINUTE.value,
            "source": BUILT,
            "start": {"$lte": now},
        },
        sort=[("start", 1)],
    )
    return found


async def seed_history(
    prices: dict[str, tuple[Instrument, Decimal]],
    days: int,
    drift: float,
    volatility: float,
    seed: int = 7,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Stores `days` of one-minute bars per instrument (symbol -> instrument, current price)
    ending where its stored bars begin (the live feed's first minute), or now. Instruments with
    more than a day of bars are left alone. Returns how many bars were stored."""
    now = datetime.now(UTC)
    minutes = days * 24 * 60
    collection = CandleBar.get_pymongo_collection()
    stored = 0
    for symbol, (instrument, price) in prices.items():
        earliest = await _earliest_bar(symbol, now)
        end = now
        if earliest is not None:
            end = earliest["start"].replace(tzinfo=UTC)
            price = bars.bar_open(earliest)
        if end < now - timedelta(days=1):  # seeded before
            if progress:
                progress(minutes)
            continue
        made = history_bars(instrument, price, end, minutes, drift, volatility, seed)
        # Batches made as they go: the event loop is held for one batch's making at most (the
        # emulation stores it in its worker thread) and a month of bars is never all in memory.
        while batch := list(islice(made, BATCH)):
            await collection.insert_many(batch, ordered=False)
            stored += len(batch)
            if progress:
                progress(len(batch))
    return stored
