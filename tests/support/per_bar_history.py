"""Seeded history as it was stored before day documents: one document per bar, prices as the
decimal text of the rounded float. The reference the day layout must read the same as."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from bson import Decimal128

from tradegraph import time_buckets
from tradegraph.documents import Instrument
from tradegraph.markets.history import MINUTES_PER_YEAR, draw_path


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 2


def per_bar_documents(
    instrument: Instrument,
    end_price: Decimal,
    end: datetime,
    minutes: int,
    drift: float,
    volatility: float,
    seed: int,
) -> Iterator[dict[str, Any]]:
    """The documents the per-bar seed stored (its code, unchanged but for the batching)."""
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
    first = time_buckets.bucket_start(end, 60) - timedelta(minutes=minutes)
    columns = [np.maximum(np.round(c, places), tick) for c in (opens, highs, lows, closes)]
    for i, (o, h, lo, c) in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
        price = [Decimal128(f"{v:.{places}f}") for v in (o, h, lo, c)]
        yield {
            "symbol": instrument.symbol,
            "interval": "ONE_MINUTE",
            "start": first + timedelta(minutes=i),
            "source": "ticks",  # BUILT
            "open": price[0],
            "high": price[1],
            "low": price[2],
            "close": price[3],
            "volume": Decimal128(str(lot * int(volumes[i]))),
        }
