"""Seeded history as it was stored before day documents: one document per bar, prices as the
decimal text of the rounded float. The reference the day layout must read the same as."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from bson import Decimal128

from tradegraph import time_buckets
from tradegraph.decimals import step_places
from tradegraph.documents import Instrument
from tradegraph.markets.history import draw_bars


def per_bar_documents(
    instrument: Instrument,
    end_price: Decimal,
    end: datetime,
    minutes: int,
    drift: float,
    volatility: float,
    seed: int,
) -> Iterator[dict[str, Any]]:
    """The documents the per-bar seed stored (its code, unchanged but for the batching and
    the draws, which are the seed's own: only the storing is compared)."""
    drawn, volumes = draw_bars(instrument, end_price, minutes, drift, volatility, seed)
    places = step_places(instrument.tick_size)
    tick = float(instrument.tick_size)
    lot = instrument.lot_size
    first = time_buckets.bucket_start(end, 60) - timedelta(minutes=minutes)
    columns = [np.maximum(np.round(c, places), tick) for c in drawn]
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
