"""The last candle before a moment (markets/candles.py::last_bar_before) is the last of the
candles up to that moment, over every mix of seeded days, imported candles and live bars: a
moment inside a seeded day or on a bucket edge, an import winning its bucket, a weekend
between seeded days, nothing before. The quote's previous close and the position's read it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_day_pnl import DAY, last_session_close
from tests.e2e.test_quotes import QUOTE
from tests.support.clients import GraphQLClient
from tests.support.trading import create_instrument, dec, funded_portfolio, place, publish_quote
from tradegraph import time_buckets
from tradegraph.documents import AssetClass, CandleInterval, Instrument
from tradegraph.markets import bars, day_bars
from tradegraph.markets.candles import Candle, candles, import_candles, last_bar_before
from tradegraph.markets.day_columns import BarColumns
from tradegraph.markets.history import history_columns
from tradegraph.time_buckets import EPOCH

SYMBOL = "LAST"
INSTRUMENT = Instrument.model_construct(
    symbol=SYMBOL,
    name=SYMBOL,
    asset_class=AssetClass.STOCK,
    exchange="X",
    currency="USD",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("100"),
)
FRIDAY = datetime(2026, 3, 6, 20, 0, 37, tzinfo=UTC)  # the first seeded run ends here ...
MONDAY = datetime(2026, 3, 9, 14, 13, 5, tzinfo=UTC)  # ... the second, after a weekend
INTERVALS = list(CandleInterval)
REACHES = [None, timedelta(minutes=10), timedelta(days=1), timedelta(days=7)]


async def seed_days(friday_minutes: int, monday_minutes: int) -> tuple[BarColumns, BarColumns]:
    """Two seeded runs, Friday's and Monday's (which starts after Monday's midnight)."""
    friday = history_columns(INSTRUMENT, Decimal("37.52"), FRIDAY, friday_minutes, 0.05, 0.9, 3)
    monday = history_columns(INSTRUMENT, Decimal("38.10"), MONDAY, monday_minutes, 0.05, 0.9, 4)
    for run in (friday, monday):
        assert await day_bars.store_days(SYMBOL, run) == len(run)
    return friday, monday


async def expected(
    interval: CandleInterval, moment: datetime, reach: timedelta | None
) -> Candle | None:
    """The last of the candles over [moment - reach, moment) (reach None: all of them)."""
    first = EPOCH if reach is None else moment - reach
    found = await candles(SYMBOL, interval, first, moment)
    return found[-1] if found else None


async def last(
    interval: CandleInterval, moment: datetime, reach: timedelta | None = None
) -> Candle | None:
    not_before = None if reach is None else moment - reach
    return await last_bar_before(SYMBOL, interval, moment, not_before=not_before)


def imported(start: datetime, close: str) -> Candle:
    price = Decimal(close)
    return Candle(start, price, price + 1, price - 1, price, Decimal(7))


@pytest.mark.usefixtures("services")
async def test_the_last_bar_is_the_last_candle_for_each_kind_of_history() -> None:
    friday, monday = await seed_days(600, 300)
    friday_last = friday.start(len(friday) - 1)
    monday_first = monday.start(0)
    one_minute, one_hour = CandleInterval.ONE_MINUTE, CandleInterval.ONE_HOUR

    # Nothing before: at the first seeded bar's own start, and days before it.
    assert await last(one_minute, friday.start(0)) is None
    assert await last(CandleInterval.ONE_DAY, friday.start(0) - timedelta(days=3)) is None

    # Inside a seeded day: the seeded bar of the minute before, mid-minute too.
    inside = friday.start(100) + timedelta(seconds=20)
    found = await last(one_minute, inside)
    assert found is not None
    assert found.start == friday.start(100)
    assert found.close == friday.price("close", 100)

    # Exactly on a bucket start: the bucket before, whole up to the moment.
    edge = friday.start(0).replace(minute=0) + timedelta(hours=3)
    found = await last(one_hour, edge)
    assert found is not None
    assert found.start == edge - timedelta(hours=1)
    before_edge = (edge - friday.start(0)) // timedelta(minutes=1) - 1  # index of its last bar
    assert found.open == friday.price("open", before_edge - 59)
    assert found.close == friday.price("close", before_edge)

    # A weekend between seeded days: Friday's last bar, unless the reach stops short of it;
    # Monday before its first bar reads the day before the day holding the moment.
    sunday = FRIDAY + timedelta(days=2)
    found = await last(one_minute, sunday, timedelta(days=3))
    assert found is not None
    assert found.start == friday_last
    assert await last(one_minute, sunday, timedelta(days=1)) is None
    found = await last(one_minute, monday_first, timedelta(days=3))
    assert found is not None
    assert found.start == friday_last

    # An import wins its bucket over the seeded bars in it; a late tick in a seeded minute
    # raises its high and keeps its close.
    hour = monday_first.replace(minute=0) + timedelta(hours=2)
    assert await import_candles(SYMBOL, one_hour, [imported(hour, "50.00")]) == 1
    found = await last(one_hour, hour + timedelta(minutes=30))
    assert found == imported(hour, "50.00")
    late = monday.start(130) + timedelta(seconds=30)
    await bars.record_tick(SYMBOL, late, Decimal("99.99"), Decimal(3))
    found = await last(one_minute, late)
    assert found is not None
    assert found.start == monday.start(130)
    assert (found.high, found.close) == (Decimal("99.99"), monday.price("close", 130))

    for moment, interval in [
        (inside, one_minute),
        (edge, one_hour),
        (sunday, CandleInterval.ONE_DAY),
        (hour + timedelta(minutes=30), one_hour),
        (late, one_minute),
        (late, CandleInterval.FIVE_MINUTES),
    ]:
        assert await last(interval, moment) == await expected(interval, moment, None)


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_last_bar_agrees_with_the_candles_over_random_history(seed: int) -> None:
    rng = random.Random(seed)
    friday, monday = await seed_days(rng.randint(200, 1700), rng.randint(30, 700))
    span_start, span_end = friday.start(0) - timedelta(hours=2), MONDAY + timedelta(hours=3)

    def anywhere() -> datetime:
        return span_start + (span_end - span_start) * rng.random()

    rows: list[Candle] = []
    for interval in INTERVALS:  # imports, most of them over seeded bars
        starts = {time_buckets.bucket_start(anywhere(), interval.seconds) for _ in range(4)}
        rows += [
            imported(start, f"{rng.randint(20, 60)}.{rng.randint(0, 99):02d}") for start in starts
        ]
        await import_candles(SYMBOL, interval, rows[-len(starts) :])
    ticks = [anywhere() for _ in range(12)]  # in seeded minutes, the weekend, after Monday's run
    for moment in ticks:
        price = Decimal(rng.randint(3000, 4500)) / 100
        await bars.record_tick(SYMBOL, moment, price, Decimal(rng.randint(0, 9)))

    moments = [anywhere() for _ in range(40)]
    moments += [
        time_buckets.bucket_start(anywhere(), rng.choice(INTERVALS).seconds) for _ in range(10)
    ]
    moments += [row.start + timedelta(seconds=rng.randint(1, 600)) for row in rows]
    moments += [tick + timedelta(seconds=rng.randint(0, 90)) for tick in ticks]
    moments += [friday.start(0), monday.start(0), FRIDAY + timedelta(days=1), span_start]
    answers = []
    for moment in moments:
        for interval in INTERVALS:
            reach = rng.choice(REACHES)
            found = await last(interval, moment, reach)
            assert found == await expected(interval, moment, reach), (moment, interval, reach)
            answers.append(found)
    assert None in answers
    assert any(found in rows for found in answers)  # an import won its bucket
    assert any(found is not None and found not in rows for found in answers)


async def test_a_one_minute_import_before_the_session_is_the_previous_close_of_both(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await create_instrument(gql, admin_token)
    start = last_session_close(datetime.now(UTC))
    mutation = """mutation($candles: [CandleInput!]!) {
      importCandles(input: {symbol: "PETR4", interval: ONE_MINUTE, candles: $candles}) }"""
    row = {"start": (start - timedelta(minutes=2)).isoformat(), "open": "11", "high": "12.5"}
    row |= {"low": "11", "close": "12", "volume": "4"}
    assert (await gql.data(mutation, {"candles": [row]}, admin_token))["importCandles"] == 1
    tick = (start - timedelta(minutes=30)).isoformat()  # an earlier live bar: not it
    await publish_quote(gql, admin_token, bid="9.90", ask="10.10", timestamp=tick)
    await publish_quote(gql, admin_token, bid="12.90", ask="13.10")
    pid = await funded_portfolio(gql, trader["accessToken"], "1000")
    await place(gql, trader["accessToken"], pid, "BUY", "1")

    quote = (await gql.data(QUOTE, {"symbol": "PETR4"}, admin_token))["quote"]
    portfolio = (await gql.data(DAY, {"id": pid}, trader["accessToken"]))["portfolio"]
    (position,) = portfolio["positions"]
    assert dec(quote["previousClose"]) == dec(position["previousClose"]) == 12
    assert dec(quote["change"]) == 1
