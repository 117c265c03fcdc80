"""Seeded bars as integer columns in day documents: every price and volume comes back as the
very Decimal (value and exponent) the per-bar layout stored, through real BSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import bson
import numpy as np
import pytest

from tests.support.per_bar_history import per_bar_documents
from tradegraph.documents import AssetClass, Instrument
from tradegraph.markets.day_columns import day_columns, day_documents, groups, joined
from tradegraph.markets.history import history_columns

END = datetime(2026, 3, 4, 13, 37, 21, tzinfo=UTC)  # not a day edge: partial first/last day
MINUTES = 2 * 1440 + 500


def instrument(symbol: str, tick: str, lot: str) -> Instrument:
    return Instrument.model_construct(
        symbol=symbol,
        name=symbol,
        asset_class=AssetClass.STOCK,
        exchange="X",
        currency="USD",
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
    )


INSTRUMENTS = [
    instrument("PETR4", "0.01", "100"),
    instrument("BTCUSDT", "0.01", "0.00001"),
    instrument("EURUSD", "0.00001", "1000"),
    instrument("TINY", "0.5", "1"),  # prices floor at one tick
]


@pytest.mark.parametrize("listing", INSTRUMENTS, ids=lambda i: i.symbol)
def test_bars_round_trip_exactly_through_bson_day_documents(listing: Instrument) -> None:
    price = Decimal("0.6") if listing.symbol == "TINY" else Decimal("37.52")
    args = (listing, price, END, MINUTES, 0.05, 0.9, 7)
    expected = list(per_bar_documents(*args))
    documents = day_documents(listing.symbol, history_columns(*args))
    assert [d["bars"] for d in documents] == [MINUTES - 1440 - 817, 1440, 817]  # 13:37 is 817
    stored = [bson.decode(bson.encode(d)) for d in documents]  # as MongoDB hands them back
    read = [(bars, i) for bars in map(day_columns, stored) for i in range(len(bars))]
    assert len(read) == len(expected)
    for (bars, i), old in zip(read, expected, strict=True):
        assert bars.start(i) == old["start"]
        for name in ("open", "high", "low", "close"):
            assert str(bars.price(name, i)) == str(old[name].to_decimal())  # exponent too
        volume = Decimal(int(bars.volume[i])) * bars.volume_unit
        assert str(volume) == str(old["volume"].to_decimal())


def test_groups_equal_decimal_aggregation_over_partial_days() -> None:
    args = (INSTRUMENTS[0], Decimal("37.52"), END, MINUTES, 0.05, 0.9, 7)
    bars = history_columns(*args)
    old = list(per_bar_documents(*args))
    first = END - timedelta(days=1, hours=5, minutes=3)
    to = END - timedelta(hours=2, seconds=30)
    for width in (1, 5, 60, 1440):
        found = {}
        for document in day_documents("PETR4", bars):
            found.update(groups(day_columns(document).between(first, to), width))
        reference: dict[datetime, list[dict]] = {}
        for bar in old:
            if first <= bar["start"] < to:
                edge = bar["start"] - timedelta(minutes=int(bar["start"].timestamp() // 60) % width)
                reference.setdefault(edge, []).append(bar)
        assert list(found) == sorted(reference)
        for start, rows in reference.items():
            got = found[start]
            price = {k: [r[k].to_decimal() for r in rows] for k in ("open", "high", "low", "close")}
            assert (got.open, got.close) == (price["open"][0], price["close"][-1])
            assert (got.high, got.low) == (max(price["high"]), min(price["low"]))
            assert got.volume == sum(r["volume"].to_decimal() for r in rows)
            assert (got.first, got.last) == (rows[0]["start"], rows[-1]["start"])


def test_joining_keeps_the_stored_bar_of_a_minute_and_orders_by_time() -> None:
    args = (INSTRUMENTS[0], Decimal("37.52"), END, 30, 0.05, 0.9, 7)
    bars = history_columns(*args)
    kept = bars.where(np.arange(10, 20))
    added = bars.where(np.arange(0, 15))
    added = added.__class__(**{**added.__dict__, "open": added.open + 1})
    both = joined(kept, added)
    assert both is not None
    assert both.minutes.tolist() == bars.minutes[:20].tolist()
    assert both.open.tolist() == (bars.open[:10] + 1).tolist() + bars.open[10:20].tolist()
    other_units = added.__class__(**{**added.__dict__, "price_unit": Decimal("0.1")})
    assert joined(kept, other_units) is None
