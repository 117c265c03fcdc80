"""A restart answers before its market data is loaded: /healthz and GraphQL at once, /readyz
`loading`, and a call needing the bars waits a bounded time, then SERVICE_UNAVAILABLE with
Retry-After; once loaded, everything (journaled changes included) is there."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import mongomock
import pytest
from bson import Decimal128

from tests.e2e.conftest import login_admin, server_settings
from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import create_instrument
from tradegraph.server import start_server
from tradegraph.store import loading
from tradegraph.store.snapshot_reading import DeferredPart, decode_chunk
from tradegraph.store.snapshots import CHUNK, encode_store, snapshot_path, write_atomically

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TRADEGRAPH_MONGODB_URL")), reason="loading is the emulation's"
)

CANDLES = """query($from: DateTime!, $to: DateTime!) {
  candles(symbol: "PETR4", interval: ONE_HOUR, from: $from, to: $to) { start close }
}"""
START = datetime(2026, 3, 2, tzinfo=UTC)
BARS = CHUNK * 2 + 100  # three chunks
HOURS = (BARS + 59) // 60


def _seeded_snapshot(path: Path) -> None:
    """A snapshot holding BARS one-minute bars of PETR4 (as a seeded month stores them)."""
    # Any: mongomock's stubs call its client pymongo's, which has no `_store` to snapshot.
    database: Any = mongomock.MongoClient(tz_aware=True)["seeded"]
    price = Decimal128("10.00")
    database["candles"].insert_many(
        {
            "symbol": "PETR4",
            "interval": "ONE_MINUTE",
            "start": START + timedelta(minutes=minute),
            "source": "ticks",  # BUILT
            **{"open": price, "high": price, "low": price, "close": price},
            "volume": Decimal128("100"),
        }
        for minute in range(BARS)
    )
    write_atomically(path, encode_store(database._store, START))


class HeldLoader:
    """Holds the loader before its first chunk until released (the month being decoded)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.release = threading.Event()

        def held(part: DeferredPart, chunk: tuple[int, int]) -> list[dict[str, Any]]:
            self.release.wait(30)
            return decode_chunk(part, chunk)

        monkeypatch.setattr(loading, "decode_chunk", held)


async def test_a_restart_answers_while_market_data_loads_then_serves_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    _seeded_snapshot(snapshot_path(tmp_path, database))
    held = HeldLoader(monkeypatch)
    settings = server_settings(
        data_dir=str(tmp_path), mongodb_database=database, loading_wait_seconds=0.3
    )
    server = await start_server(settings)  # returns although no bar is loaded yet
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            gql = GraphQLClient(http)
            assert (await http.get("/healthz")).status_code == 200
            admin = await login_admin(gql)  # GraphQL over data already loaded
            await create_instrument(gql, admin)
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "loading"
            assert ready.headers["retry-after"]

            window = {"from": START.isoformat(), "to": (START + timedelta(days=9)).isoformat()}
            response = await http.post(
                "/graphql",
                json={"query": CANDLES, "variables": window},
                headers={"Authorization": f"Bearer {admin}"},
            )
            (refusal,) = response.json()["errors"]
            assert error_code(refusal) == "SERVICE_UNAVAILABLE"
            assert refusal["extensions"]["retryAfterSeconds"] >= 1
            assert response.headers["retry-after"] == str(
                refusal["extensions"]["retryAfterSeconds"]
            )
            assert "still loading" in refusal["message"]

            held.release.set()
            loader = server.app.state.services.store.recovery.loader
            await asyncio.wait_for(loader.done.wait(), 60)
            assert (await http.get("/readyz")).json()["status"] == "ready"
            candles = (await gql.data(CANDLES, window, admin))["candles"]
            assert len(candles) == HOURS
    finally:
        held.release.set()
        await server.stop()


async def test_a_call_made_while_loading_waits_and_then_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    _seeded_snapshot(snapshot_path(tmp_path, database))
    held = HeldLoader(monkeypatch)
    settings = server_settings(
        data_dir=str(tmp_path), mongodb_database=database, loading_wait_seconds=30
    )
    server = await start_server(settings)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin)
            window = {"from": START.isoformat(), "to": (START + timedelta(days=9)).isoformat()}
            waiting = asyncio.create_task(gql.data(CANDLES, window, admin))
            gate = server.app.state.services.store.recovery.loader.gates["candles"]
            await asyncio.wait_for(gate.waited.wait(), 30)  # the query is held at the gate
            assert not waiting.done()
            held.release.set()
            candles = (await waiting)["candles"]
            assert len(candles) == HOURS
    finally:
        held.release.set()
        await server.stop()
    # No snapshot was skipped for good: the shutdown one holds the bars again.
    server = await start_server(settings)
    try:
        await asyncio.wait_for(server.app.state.services.store.recovery.loader.done.wait(), 60)
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            window = {"from": START.isoformat(), "to": (START + timedelta(days=9)).isoformat()}
            assert len((await gql.data(CANDLES, window, admin))["candles"]) == HOURS
    finally:
        await server.stop()


async def test_damaged_market_data_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    file = snapshot_path(tmp_path, database)
    _seeded_snapshot(file)
    damaged = file.read_bytes()[:-7]  # the last bar cut short: market data is read last
    file.write_bytes(damaged)
    settings = server_settings(
        data_dir=str(tmp_path), mongodb_database=database, loading_wait_seconds=0.3
    )
    server = await start_server(settings)  # what comes before the bars is whole
    try:
        await asyncio.wait_for(server.app.state.services.store.recovery.loader.done.wait(), 60)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin)
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert str(file) in ready.json()["store"]
            window = {"from": START.isoformat(), "to": (START + timedelta(days=9)).isoformat()}
            refusal = await gql.error(CANDLES, window, admin)
            assert error_code(refusal) == "SERVICE_UNAVAILABLE"
            assert str(file) in refusal["message"]
    finally:
        await server.stop()
    assert file.read_bytes() == damaged  # no snapshot replaced it
