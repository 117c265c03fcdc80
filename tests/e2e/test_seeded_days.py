"""Seeded history stored a UTC day per document reads exactly as the per-bar layout did: the
same candles over ranges crossing day edges and partial days (with a late tick folded into a
seeded minute, live bars after it, an imported candle winning its bucket), the same session
statistics, and the same candles after a restart from a snapshot or from the journal."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ADMIN_ENV, login_admin, server_settings
from tests.support.clients import GraphQLClient
from tests.support.per_bar_history import per_bar_documents
from tests.support.servers import start_tradegraph
from tests.support.trading import create_instrument, publish_quote
from tradegraph.documents import CandleBar, CandleDay
from tradegraph.markets import bars, day_bars
from tradegraph.markets.history import history_columns, seed_history
from tradegraph.markets.sessions import read_stats
from tradegraph.server import start_server
from tradegraph.services import Services

CANDLES = """query($interval: CandleInterval!, $from: DateTime!, $to: DateTime!) {
  candles(symbol: "PETR4", interval: $interval, from: $from, to: $to) {
    start open high low close volume
  }
}"""
IMPORT = """mutation($candles: [CandleInput!]!) {
  importCandles(input: {symbol: "PETR4", interval: FIVE_MINUTES, candles: $candles})
}"""
END = datetime(2026, 3, 4, 13, 37, 21, tzinfo=UTC)  # the seeded history ends mid-day
MINUTES = 2 * 1440 + 500  # three UTC days, the first and last partial
LATE = END - timedelta(days=1, hours=3, seconds=-17)  # a late tick inside a seeded minute
RANGES = [
    (
        "ONE_MINUTE",
        END - timedelta(days=1, hours=3, minutes=7, seconds=13),
        END + timedelta(hours=1),
    ),
    ("FIVE_MINUTES", END - timedelta(days=1, hours=8, seconds=1), END - timedelta(hours=9)),
    ("ONE_HOUR", END - timedelta(days=2, minutes=17), END + timedelta(minutes=3)),
    ("ONE_DAY", END - timedelta(days=4), END + timedelta(days=1)),
]
SESSIONS = [END - timedelta(hours=5), END - timedelta(days=2, hours=1), END + timedelta(hours=2)]


async def _seed(services: Services, layout: str) -> None:
    """The same seeded bars in one layout, then the same late and live ticks."""
    instrument = await services.instruments.require("PETR4")
    args = (instrument, Decimal("37.52"), END, MINUTES, 0.05, 0.9, 7)
    if layout == "per bar":
        await CandleBar.get_pymongo_collection().insert_many(list(per_bar_documents(*args)))
    else:
        assert await day_bars.store_days("PETR4", history_columns(*args)) == MINUTES
    await bars.record_tick("PETR4", LATE, Decimal("99.99"), Decimal("7"))
    for seconds, price in ((30, "40.01"), (95, "36.50"), (3700, "38.00")):
        await bars.record_tick("PETR4", END + timedelta(seconds=seconds), Decimal(price), None)


async def _everything_read(gql: GraphQLClient, admin: str) -> list[Any]:
    found: list[Any] = []
    for interval, first, to in RANGES:
        window = {"interval": interval, "from": first.isoformat(), "to": to.isoformat()}
        found.append((await gql.data(CANDLES, window, admin))["candles"])
    for start in SESSIONS:
        found.append(await read_stats("PETR4", start))
    return found


async def test_seeded_days_read_exactly_as_bars_stored_one_per_document(
    gql: GraphQLClient, admin_token: str, services: Services
) -> None:
    await create_instrument(gql, admin_token)
    imported = {
        "start": (END - timedelta(hours=10)).replace(minute=5, second=0).isoformat(),
        **{"open": "1", "high": "2", "low": "1", "close": "2", "volume": "9"},
    }
    assert (await gql.data(IMPORT, {"candles": [imported]}, admin_token))["importCandles"] == 1

    await _seed(services, "per bar")
    before = await _everything_read(gql, admin_token)
    await CandleBar.find(CandleBar.source == "ticks").delete()
    await _seed(services, "days")
    assert await CandleDay.find_all().count() == 3
    assert await CandleBar.find(CandleBar.source == "ticks").count() == 4  # the ticks' bars
    after = await _everything_read(gql, admin_token)

    assert after == before
    minutes, fives, hours, days = after[:4]
    assert len(minutes) == 27 * 60 + 7 + 2  # seeded 10:30 to 13:36 the next day, two live bars
    late = next(c for c in minutes if c["start"] == LATE.replace(second=0).isoformat())
    assert Decimal(late["high"]) == Decimal(
        "99.99"
    )  # the late tick folded into the seeded minute ...
    assert Decimal(late["open"]) < 50  # ... keeps its open and close
    assert Decimal(late["close"]) < 50
    bucket = next(c for c in fives if c["start"] == imported["start"])
    imported_values = [Decimal(bucket[k]) for k in ("open", "high", "volume")]
    assert imported_values == [1, 2, 9]  # the import wins its bucket
    assert len(days) == 3
    assert len(hours) == 49  # 13:00 two days before to 13:00 on END's day
    assert Decimal(days[-1]["close"]) == Decimal("38.00")  # the live bars close the last day


async def test_a_restart_from_a_snapshot_of_a_seeded_store_reads_the_same_candles(
    tmp_path: Path,
) -> None:
    if os.environ.get("TRADEGRAPH_MONGODB_URL"):
        pytest.skip("snapshots are for the emulation")
    settings = server_settings(
        data_dir=str(tmp_path), mongodb_database=f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    )
    now = datetime.now(UTC)
    windows = [
        {
            "interval": "ONE_HOUR",
            "from": (now - timedelta(days=2)).isoformat(),
            "to": now.isoformat(),
        },
        {
            "interval": "ONE_MINUTE",
            "from": (now - timedelta(hours=30)).isoformat(),
            "to": now.isoformat(),
        },
    ]

    async def read(url: str, first_start: bool) -> list[Any]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            if first_start:
                await create_instrument(gql, admin)
                await publish_quote(gql, admin, "37.50", "37.54")
            return [(await gql.data(CANDLES, w, admin))["candles"] for w in windows]

    server = await start_server(settings)
    try:
        await read(server.url, first_start=True)
        services: Services = server.app.state.services
        instrument = await services.instruments.require("PETR4")
        await seed_history({"PETR4": (instrument, Decimal("37.52"))}, 2, 0.05, 0.3)
        seeded = await read(server.url, first_start=False)
    finally:
        await server.stop()  # snapshot on shutdown
    assert len(seeded[0]) >= 47
    assert len(seeded[1]) >= 30 * 60

    restarted = await start_server(settings)
    try:
        await restarted.app.state.services.store.wait_loaded()
        assert await read(restarted.url, first_start=False) == seeded
    finally:
        await restarted.stop()


async def test_a_seeded_month_killed_before_any_snapshot_comes_back_from_the_journal(
    tmp_path: Path,
) -> None:
    if os.environ.get("TRADEGRAPH_MONGODB_URL"):
        pytest.skip("the journal is the emulation's")
    env = {
        **ADMIN_ENV,
        "TRADEGRAPH_DATA_DIR": str(tmp_path),
        "TRADEGRAPH_SEED_HISTORY_DAYS": "3",
        "TRADEGRAPH_SNAPSHOT_SECONDS": "3600",  # only the journal holds the seeded days
        "TRADEGRAPH_MARKET_FEED": "none",  # no live bar moves between the two reads
    }
    window = {
        "interval": "FIVE_MINUTES",
        "from": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "to": datetime.now(UTC).isoformat(),
    }

    async def read(url: str) -> list[Any]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            candles: list[Any] = (await gql.data(CANDLES, window, admin))["candles"]
            return candles

    seeding = await start_tradegraph(env, "--seed", start_timeout=120)
    try:
        seeded = await read(seeding.url)
    finally:
        seeding.process.kill()  # SIGKILL: no shutdown snapshot
        await seeding.process.wait()
    assert len(seeded) >= 3 * 288 - 2
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".snapshot.bson")]  # journal only

    restarted = await start_tradegraph(env, start_timeout=120)
    try:
        assert await read(restarted.url) == seeded
    finally:
        await restarted.stop()


async def test_history_stored_twice_into_one_day_keeps_the_bars_stored_first(
    gql: GraphQLClient, admin_token: str, services: Services
) -> None:
    await create_instrument(gql, admin_token)
    instrument = await services.instruments.require("PETR4")
    later = history_columns(instrument, Decimal("37.52"), END, 600, 0.05, 0.9, 7)
    earlier_end = END - timedelta(hours=5)  # 300 of its 600 minutes are in `later` too
    earlier = history_columns(instrument, Decimal("20.00"), earlier_end, 600, 0.05, 0.9, 8)
    assert await day_bars.store_days("PETR4", later) == 600
    assert await day_bars.store_days("PETR4", earlier) == 300  # only the minutes not stored
    assert await CandleDay.find_all().count() == 2  # END's day joined, the day before new

    window = {
        "interval": "ONE_MINUTE",
        "from": (END - timedelta(hours=15)).isoformat(),
        "to": END.isoformat(),
    }
    candles = (await gql.data(CANDLES, window, admin_token))["candles"]
    assert len(candles) == 900
    closes = {c["start"]: Decimal(c["close"]) for c in candles}
    for i in range(len(later)):
        assert closes[later.start(i).isoformat()] == later.price("close", i)
    for i in range(300):
        assert closes[earlier.start(i).isoformat()] == earlier.price("close", i)
