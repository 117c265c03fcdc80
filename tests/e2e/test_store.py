"""The embedded store over time: snapshots across restarts, refusal of a corrupt snapshot, tick
retention on the emulation, candles read from stored bars."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import bson
import httpx
import mongomock
import pytest
from bson import Decimal128, ObjectId

from tests.e2e.conftest import login_admin, register, server_settings
from tests.support.clients import (
    GraphQLClient,
    connected,
    send_webhook,
    wait_for_subscribers,
)
from tests.support.trading import (
    create_instrument,
    dec,
    funded_portfolio,
    place,
    portfolio,
    publish_quote,
)
from tradegraph.markets.quotes import Quote
from tradegraph.pubsub.channels import quote_channel
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services
from tradegraph.store.snapshots import FORMAT, encode_store, snapshot_path, write_atomically

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TRADEGRAPH_MONGODB_URL")), reason="snapshots are for the emulation"
)

ORDERS = """query($id: ID!) { orders(portfolioId: $id) { edges { node { id status } } } }"""
EVENTS = """{ events(first: 20) { edges { node { userId type value } } } }"""
CANDLES = """query($interval: CandleInterval!, $from: DateTime, $to: DateTime) {
  candles(symbol: "PETR4", interval: $interval, from: $from, to: $to) {
    start open high low close volume
  }
}"""
IMPORT = """mutation($interval: CandleInterval!, $candles: [CandleInput!]!) {
  importCandles(input: {symbol: "PETR4", interval: $interval, candles: $candles})
}"""
FORMING = """subscription {
  candles(symbol: "PETR4", interval: ONE_MINUTE) { start open high low close }
}"""
LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}"""


@asynccontextmanager
async def running(**overrides: object) -> AsyncIterator[tuple[RunningServer, GraphQLClient]]:
    server = await start_server(server_settings(**overrides))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            yield server, GraphQLClient(http)
    finally:
        await server.stop()


async def test_a_restart_on_the_same_data_dir_keeps_accounts_portfolios_orders_events(
    tmp_path: Path,
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    settings = {"data_dir": str(tmp_path), "mongodb_database": database}
    async with running(**settings) as (server, gql):
        admin = await login_admin(gql)
        await create_instrument(gql, admin)
        await publish_quote(gql, admin, "10.00", "10.10")
        trader = await register(gql, "keeper@example.com")
        token = trader["accessToken"]
        portfolio_id = await funded_portfolio(gql, token, "1000.25")
        order = await place(gql, token, portfolio_id, "BUY", "10")
        assert order["status"] == "FILLED"
        response = await send_webhook(
            gql.http, [{"userId": "u1", "type": "login", "value": 1.5}], "msg_restart"
        )
        assert response.json()["stored"] == 1
        before = await portfolio(gql, token, portfolio_id)
    assert snapshot_path(tmp_path, database).exists()

    async with running(**settings) as (server, gql):
        login = await gql.data(
            LOGIN, {"email": "keeper@example.com", "password": "trader-password"}
        )
        token = login["login"]["accessToken"]
        after = await portfolio(gql, token, portfolio_id)
        assert after == before
        assert dec(after["cash"]) == Decimal("1000.25") - 10 * Decimal("10.10")
        orders = (await gql.data(ORDERS, {"id": portfolio_id}, token))["orders"]["edges"]
        assert [o["node"]["id"] for o in orders] == [order["id"]]
        admin = await login_admin(gql)
        events = (await gql.data(EVENTS, token=admin))["events"]["edges"]
        assert [e["node"] for e in events] == [{"userId": "u1", "type": "login", "value": 1.5}]
        again = await send_webhook(
            gql.http, [{"userId": "u1", "type": "login", "value": 1.5}], "msg_restart"
        )
        assert again.json() == {"received": 1, "stored": 0, "duplicates": 1}  # unique index kept
        services: Services = server.app.state.services
        assert services.store.loaded is not None
        assert services.store.loaded.documents > 0


async def test_memory_only_when_the_data_dir_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default directory would be created here
    async with running(data_dir="") as (server, gql):
        admin = await login_admin(gql)
        await create_instrument(gql, admin)
        assert server.app.state.services.store.snapshot_file is None
    assert await asyncio.to_thread(os.listdir, tmp_path) == []


def _manifest(collections: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "taken_at": datetime(2026, 1, 1), "collections": collections}


def _users(count: Any = 1, indexes: Any = None) -> dict[str, Any]:
    return {"users": {"count": count, "indexes": {} if indexes is None else indexes}}


USER = {"_id": ObjectId(), "email": "a@example.com"}
# Each malformed snapshot, as bytes, and what the one-line message says about it.
MALFORMED: dict[str, tuple[bytes, str]] = {
    "not BSON": (b"this is not BSON at all", "cannot read the store snapshot"),
    "another format": (bson.encode({"format": "something-else"}), "is not a tradegraph snapshot"),
    "a count that is text": (
        bson.encode(_manifest(_users(count="1"))) + bson.encode(USER),
        "has a count that is not a whole number",
    ),
    "no collections": (
        bson.encode({"format": FORMAT, "taken_at": datetime(2026, 1, 1)}),
        "its manifest has no collections document",
    ),
    "a collection entry without indexes": (
        bson.encode(_manifest({"users": {"count": 1}})) + bson.encode(USER),
        "lacks count or indexes",
    ),
    "taken_at that is not a date": (
        bson.encode({**_manifest(_users()), "taken_at": "yesterday"}) + bson.encode(USER),
        "taken_at is not a date",
    ),
    "a document without _id": (
        bson.encode(_manifest(_users())) + bson.encode({"email": "a@example.com"}),
        "document 0 of collection 'users' has no _id",
    ),
    "the same _id twice": (
        bson.encode(_manifest(_users(count=2))) + bson.encode(USER) + bson.encode(USER),
        "holds _id",
    ),
    "a bad index spec": (
        bson.encode(_manifest(_users(indexes={"email_1": {"key": "email"}}))) + bson.encode(USER),
        "index 'email_1' of collection 'users' is not a valid index spec",
    ),
    "counts that do not match": (
        bson.encode(_manifest(_users(count=2))) + bson.encode(USER),
        "it holds 1 documents where its manifest lists 2",
    ),
    "a truncated file": (
        (bson.encode(_manifest(_users())) + bson.encode(USER))[:-7],
        "cannot read the store snapshot",
    ),
}


@pytest.mark.parametrize("damage", list(MALFORMED))
def test_a_malformed_snapshot_stops_startup_with_one_line_naming_the_file(
    tmp_path: Path, damage: str
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    file = snapshot_path(tmp_path, database)
    content, reason = MALFORMED[damage]
    file.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "tradegraph", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "TRADEGRAPH_DATA_DIR": str(tmp_path),
            "TRADEGRAPH_MONGODB_DATABASE": database,
            "TRADEGRAPH_MARKET_FEED": "none",
        },
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "startup stopped" in line]
    assert str(file) in line
    assert reason in line
    assert file.read_bytes() == content  # left for the user to inspect, never replaced


async def test_leftover_temporary_files_of_a_killed_snapshot_write_are_removed(
    tmp_path: Path,
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    file = snapshot_path(tmp_path, database)
    leftovers = [tmp_path / f"{file.name}.abc123.tmp", tmp_path / f"{file.name}.zz9.tmp"]
    for leftover in leftovers:
        leftover.write_bytes(b"half a snapshot")
    other = tmp_path / "notes.tmp"  # not ours: kept
    other.write_bytes(b"x")
    async with running(data_dir=str(tmp_path), mongodb_database=database) as (server, _):
        recovery = server.app.state.services.store.recovery
        assert sorted(recovery.leftovers) == sorted(leftovers)
    assert not any(leftover.exists() for leftover in leftovers)
    assert other.exists()


async def test_the_sweeper_removes_ticks_older_than_the_retention() -> None:
    async with running(tick_retention_seconds=60, tick_sweep_seconds=0.05) as (server, gql):
        admin = await login_admin(gql)
        await create_instrument(gql, admin)
        now = datetime.now(UTC)
        for age in (300, 120, 30, 0):
            moment = (now - timedelta(seconds=age)).isoformat()
            await publish_quote(gql, admin, "10.00", "10.10", timestamp=moment)
        ticks = server.app.state.services.store.database["ticks"]
        async with asyncio.timeout(10):
            # The sweeper is a timer with nothing to await: poll at its period.
            while await ticks.count_documents({}) > 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        kept = await ticks.find({}, {"timestamp": 1}).to_list()
        assert sorted(now - t["timestamp"] < timedelta(seconds=60) for t in kept) == [True, True]
        # Bars outlive ticks: the minute candles of swept ticks are still there.
        window = {
            "interval": "ONE_MINUTE",
            "from": (now - timedelta(minutes=10)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
        }
        candles = (await gql.data(CANDLES, window, admin))["candles"]
        assert len(candles) >= 3


Candle = tuple[datetime, Decimal, Decimal, Decimal, Decimal, Decimal]  # start, OHLC, volume


def reference_candles(ticks: list[tuple[datetime, Decimal, Decimal]], width: int) -> list[Candle]:
    """What aggregating every tick gives: ticks in time order, bucketed by `width` seconds."""
    buckets: dict[datetime, list[tuple[datetime, Decimal, Decimal]]] = {}
    for tick in sorted(ticks):
        seconds = int(tick[0].timestamp()) // width * width
        buckets.setdefault(datetime.fromtimestamp(seconds, UTC), []).append(tick)
    return [
        (
            start,
            rows[0][1],
            max(r[1] for r in rows),
            min(r[1] for r in rows),
            rows[-1][1],
            sum((r[2] for r in rows), Decimal(0)),
        )
        for start, rows in sorted(buckets.items())
    ]


async def test_candles_from_stored_bars_equal_the_tick_aggregation_and_imports_win(
    gql: GraphQLClient, admin_token: str, services: Services
) -> None:
    await create_instrument(gql, admin_token)
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=12)
    base -= timedelta(minutes=base.minute % 5)  # a five-minute edge
    ticks = []
    # Out of order on purpose: late ticks must still set open, low and close right.
    for offset, mid, volume in [
        (65, "10.05", "3"),
        (61, "10.25", "1"),
        (119, "9.95", "2"),
        (70, "10.45", "0"),
        (185, "11.05", "4"),
        (181, "10.85", "5"),
        (305, "10.65", "6"),
        (10, "10.15", "7"),
    ]:
        moment = base + timedelta(seconds=offset)
        bid, ask = Decimal(mid) - Decimal("0.05"), Decimal(mid) + Decimal("0.05")
        # Through the quote path in process: only feeds report traded volume.
        await services.market.ingest(Quote("PETR4", bid, ask, moment, volume=Decimal(volume)))
        ticks.append((moment, Decimal(mid), Decimal(volume)))
    window = {"from": base.isoformat(), "to": (base + timedelta(minutes=10)).isoformat()}

    async def read(interval: str) -> list[Candle]:
        rows = (await gql.data(CANDLES, {**window, "interval": interval}, admin_token))["candles"]
        return [
            (
                datetime.fromisoformat(c["start"]),
                dec(c["open"]),
                dec(c["high"]),
                dec(c["low"]),
                dec(c["close"]),
                dec(c["volume"]),
            )
            for c in rows
        ]

    assert await read("ONE_MINUTE") == reference_candles(ticks, 60)
    assert await read("FIVE_MINUTES") == reference_candles(ticks, 300)

    imported = {
        "start": (base + timedelta(minutes=5)).isoformat(),
        **{"open": "1", "high": "2", "low": "1", "close": "2", "volume": "9"},
    }
    variables = {"interval": "FIVE_MINUTES", "candles": [imported]}
    assert (await gql.data(IMPORT, variables, admin_token))["importCandles"] == 1
    expected = reference_candles(ticks, 300)
    one, two, nine = Decimal("1"), Decimal("2"), Decimal("9")
    expected[1] = (base + timedelta(minutes=5), one, two, one, two, nine)
    assert await read("FIVE_MINUTES") == expected
    assert await read("ONE_MINUTE") == reference_candles(ticks, 60)  # other intervals untouched


async def test_the_forming_candle_starts_from_the_stored_bar(
    server: RunningServer, http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    first = (minute + timedelta(seconds=1)).isoformat()
    await publish_quote(gql, admin_token, "10.00", "10.20", timestamp=first)  # before subscribing
    client = await connected(server.url, admin_token)
    try:
        await client.subscribe("c", FORMING, {})
        await wait_for_subscribers(http, quote_channel("PETR4"), 1)
        second = (minute + timedelta(seconds=2)).isoformat()
        await publish_quote(gql, admin_token, "10.40", "10.60", timestamp=second)
        bar = (await client.receive())["payload"]["data"]["candles"]
    finally:
        await client.close()
    assert datetime.fromisoformat(bar["start"]) == minute
    assert [dec(bar[k]) for k in ("open", "high", "low", "close")] == [
        dec("10.10"),
        dec("10.50"),
        dec("10.10"),
        dec("10.50"),
    ]


async def test_candles_imported_before_bars_were_stored_are_moved_and_served(
    tmp_path: Path,
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    # Any: mongomock's stubs call its client pymongo's, which has no `_store` to snapshot.
    old: Any = mongomock.MongoClient(tz_aware=True)[database]
    old["imported_candles"].insert_one(
        {"symbol": "PETR4", "interval": "ONE_HOUR", "start": start}
        | {k: Decimal128(v) for k, v in [("open", "1"), ("high", "3"), ("low", "1")]}
        | {"close": Decimal128("2"), "volume": Decimal128("10")}
    )
    write_atomically(snapshot_path(tmp_path, database), encode_store(old._store, start))

    async with running(data_dir=str(tmp_path), mongodb_database=database) as (server, gql):
        admin = await login_admin(gql)
        await create_instrument(gql, admin)
        window = {
            "interval": "ONE_HOUR",
            "from": start.isoformat(),
            "to": (start + timedelta(hours=1)).isoformat(),
        }
        (candle,) = (await gql.data(CANDLES, window, admin))["candles"]
        names = await server.app.state.services.store.database.list_collection_names()
    assert [dec(candle[k]) for k in ("open", "high", "low", "close", "volume")] == [1, 3, 1, 2, 10]
    assert "imported_candles" not in names
