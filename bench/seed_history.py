"""`tradegraph serve --seed` on the embedded store: how long the price history takes to store,
what it costs in memory, how the server answers meanwhile and how fast candles read it.

python -m bench seed [--days 30]   a memory-only `serve --seed` subprocess (simulated feed);
                                   while it seeds, GET /healthz and an `instruments` query (a
                                   store call, queued behind the seed's inserts) every 100 ms
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench.store import rss_mb
from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import GraphQLClient

CANDLES = """query($symbol: String!, $interval: CandleInterval!, $from: DateTime!) {
  candles(symbol: $symbol, interval: $interval, from: $from) { start close }
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _probe(http: httpx.AsyncClient, path: str, body: dict[str, str] | None) -> float:
    started = time.perf_counter()
    if body is None:
        await http.get(path)
    else:
        await http.post(path, json=body)
    return 1000 * (time.perf_counter() - started)


async def seed_and_read(days: int, repeats: int = 7) -> None:
    port = _free_port()
    env = {
        **os.environ,
        **ADMIN_ENV,
        "TRADEGRAPH_LOG_FORMAT": "json",
        "TRADEGRAPH_DATA_DIR": "",
        "TRADEGRAPH_SEED_HISTORY_DAYS": str(days),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradegraph", "serve", "--port", str(port), "--seed",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    events: dict[str, float] = {}
    logged = {name: asyncio.Event() for name in ("instruments seeded", "listening")}

    async def read_log() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            if line.startswith(b"{"):
                event = json.loads(line).get("event", "")
                events.setdefault(event, time.perf_counter())
                if event in logged:
                    logged[event].set()

    reader = asyncio.create_task(read_log())
    base = f"http://127.0.0.1:{port}"
    health: list[float] = []
    store: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await logged["instruments seeded"].wait()
        rss_before = rss_mb(process.pid)
        peak = rss_before
        while "price history seeded" not in events:
            health.append(await _probe(http, "/healthz", None))
            store.append(await _probe(http, "/graphql", {"query": "{ instruments { symbol } }"}))
            peak = max(peak, rss_mb(process.pid))
            await asyncio.sleep(0.1)
        seconds = events["price history seeded"] - events["instruments seeded"]
        rss_after = rss_mb(process.pid)
        await logged["listening"].wait()
        gql = GraphQLClient(http)
        token = await login_admin(gql)
        print(f"{days} days of one-minute bars for every instrument: {seconds:.1f} s")
        grown = rss_after - rss_before
        print(f"RSS {rss_before:.0f} -> {rss_after:.0f} MB (+{grown:.0f}), peak {peak:.0f}")
        for name, values in (("/healthz", health), ("instruments query", store)):
            median, worst = statistics.median(values), max(values)
            print(f"while seeding, {name}: p50 {median:.0f} ms, max {worst:.0f} ms")
        now = datetime.now(UTC)
        for interval, span in (("ONE_MINUTE", 1), ("ONE_HOUR", days), ("ONE_DAY", days)):
            since = (now - timedelta(days=span) + timedelta(minutes=1)).isoformat()
            variables = {"symbol": "PETR4", "interval": interval, "from": since}
            latencies = []
            for _ in range(repeats):
                started = time.perf_counter()
                data = await gql.data(CANDLES, variables, token=token)
                latencies.append(1000 * (time.perf_counter() - started))
            print(
                f"candles {interval} over {span} d ({len(data['candles'])}): "
                f"p50 {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms"
            )
    process.terminate()
    await process.wait()
    reader.cancel()
