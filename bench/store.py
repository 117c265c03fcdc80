"""The embedded store under growth and over time, against a `tradegraph serve` subprocess.

python -m bench store   webhook ingest from 0 to N stored events (batches of 1,000), /healthz
                        latency while it runs, then events(first: 20) with N stored
python -m bench soak    the simulated feed at 20x its default rate for --minutes, sampling
                        candles, portfolio{equity performance}, events(first: 20), eventSummary
                        every 15 s, RSS, and /healthz every 100 ms, while WebSocket clients
                        churn and three dashboards stay subscribed throughout
                        (bench/subscription_churn.py)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.subscription_churn import (
    HeldDashboards,
    SubscriptionChurn,
    describe,
    live_subscriptions,
)
from tests.e2e.conftest import ADMIN_ENV, login_admin, register
from tests.support.clients import WEBHOOK_SECRET, GraphQLClient, send_webhook
from tests.support.servers import Process, start_tradegraph
from tests.support.trading import funded_portfolio, place

EVENTS_QUERY = "{ events(first: 20) { edges { node { id userId type value timestamp } } } }"
CANDLES_QUERY = """query($from: DateTime!) {
  candles(symbol: "PETR4", interval: ONE_MINUTE, from: $from) { start close volume }
}"""
PORTFOLIO_QUERY = """query($id: ID!) {
  portfolio(id: $id) { equity performance { totalReturn timeWeightedReturn maxDrawdown } }
}"""
SUMMARY_QUERY = """query($from: DateTime!, $to: DateTime!) {
  eventSummary(from: $from, to: $to) { totalEvents totalValue byType { type count } }
}"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class HealthProbe:
    """GET /healthz every `every` seconds in the background; keeps the slowest answer."""

    def __init__(self, http: httpx.AsyncClient, every: float = 0.1) -> None:
        self.http = http
        self.every = every
        self.latencies: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            assert (await self.http.get("/healthz")).status_code == 200
            self.latencies.append(time.perf_counter() - started)
            await asyncio.sleep(self.every)

    def __enter__(self) -> HealthProbe:
        self.task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()

    @property
    def worst_ms(self) -> float:
        return 1000 * max(self.latencies, default=0.0)


async def _timed(call: Callable[[], Awaitable[None]], repeats: int) -> list[float]:
    latencies = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        latencies.append(1000 * (time.perf_counter() - started))
    return latencies


async def _server(extra: dict[str, str], *args: str) -> Process:
    # `--seed` stores a month of one-minute bars (about a minute) before it says it listens.
    return await start_tradegraph(
        {
            **ADMIN_ENV,
            "TRADEGRAPH_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TRADEGRAPH_MONGODB_DATABASE": f"tradegraph_bench_{uuid.uuid4().hex[:8]}",
            **extra,
        },
        *args,
        start_timeout=600,
    )


def _batch(start: int, size: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "userId": f"u{i % 50}",
            "type": "purchase",
            "value": i % 97,
            "timestamp": (now - timedelta(seconds=i % 3600)).isoformat(),
            "metadata": {"n": i},
        }
        for i in range(start, start + size)
    ]


async def ingest_and_list(events: int, requests: int) -> None:
    """Ingest 0 -> `events` in batches of 1,000, then time events(first: 20)."""
    server = await _server({"TRADEGRAPH_MARKET_FEED": "none"})
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            gql = GraphQLClient(http)
            token = await login_admin(gql)

            async def listing() -> None:
                data = await gql.data(EVENTS_QUERY, token=token)
                assert len(data["events"]["edges"]) == min(20, stored)

            stored = 0
            await _timed(listing, 5)  # warm-up
            empty = await _timed(listing, requests)
            rates: list[tuple[int, float]] = []
            with HealthProbe(http, every=0.05) as probe:
                started = time.perf_counter()
                for number, start in enumerate(range(0, events, 1000)):
                    size = min(1000, events - start)
                    began = time.perf_counter()
                    response = await send_webhook(http, _batch(start, size), f"bench-{number}")
                    assert response.json()["stored"] == size, response.text
                    stored += size
                    rates.append((stored, size / (time.perf_counter() - began)))
                elapsed = time.perf_counter() - started
            full = await _timed(listing, requests)
            rss = rss_mb(server.process.pid)
    finally:
        await server.stop()
    overall = events / elapsed
    first, last = rates[: max(1, len(rates) // 10)], rates[-max(1, len(rates) // 10) :]
    first_rate = statistics.mean(r for _, r in first)
    last_rate = statistics.mean(r for _, r in last)
    print(f"\nwebhook ingest 0 -> {events:,} stored, batches of 1,000 (one client, sequential)")
    print(f"  overall {overall:,.0f} events/s; first 10% of batches {first_rate:,.0f}/s, ")
    print(f"  last 10% {last_rate:,.0f}/s (ratio last/first {last_rate / first_rate:.2f})")
    print(
        f"  slowest batch {min(r for _, r in rates):,.0f}/s; /healthz worst {probe.worst_ms:.1f} ms"
    )
    for label, rows in (("empty store", empty), (f"{events:,} stored", full)):
        rows.sort()
        print(
            f"events(first: 20), {label}: p50 {statistics.median(rows):.1f} ms, "
            f"p99 {rows[int(len(rows) * 0.99) - 1]:.1f} ms ({len(rows)} sequential requests)"
        )
    ratio = statistics.median(full) / statistics.median(empty)
    print(f"  p50 ratio {events:,} stored / empty: {ratio:.2f}; server RSS {rss:.0f} MB")
    print(json.dumps({"ingest_eps": overall, "first": first_rate, "last": last_rate}))


async def soak(minutes: float, tick_seconds: float, every: float) -> None:
    """The simulated feed at `tick_seconds` for `minutes`, sampling the four queries."""
    server = await _server(
        {
            "TRADEGRAPH_MARKET_FEED": "simulated",
            "TRADEGRAPH_SIMULATED_TICK_SECONDS": str(tick_seconds),
            "TRADEGRAPH_SIMULATED_SEED": "7",
            # Ticks kept a minute, not an hour: at 20x the feed an hour of ticks is ~1.4
            # million documents, data that would grow for the whole run and hide a leak.
            "TRADEGRAPH_TICK_RETENTION_SECONDS": "60",
            "TRADEGRAPH_TICK_SWEEP_SECONDS": "10",
        },
        "--seed",
    )
    rows: list[dict[str, float]] = []
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            trader = (await register(gql, "soak@example.com"))["accessToken"]
            portfolio_id = await funded_portfolio(gql, trader, "100000")
            await place(gql, trader, portfolio_id, "BUY", "100")
            await place(gql, trader, portfolio_id, "BUY", "5", symbol="VALE3")
            started = time.perf_counter()
            queries: dict[str, Callable[[], Awaitable[None]]] = {}

            async def candles() -> None:
                since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
                await gql.data(CANDLES_QUERY, {"from": since}, admin)

            async def portfolio() -> None:
                await gql.data(PORTFOLIO_QUERY, {"id": portfolio_id}, trader)

            async def events() -> None:
                await gql.data(EVENTS_QUERY, token=admin)

            async def summary() -> None:
                now = datetime.now(UTC)
                window = {"from": (now - timedelta(days=8)).isoformat(), "to": now.isoformat()}
                await gql.data(SUMMARY_QUERY, window, admin)

            queries = {"candles": candles, "portfolio": portfolio, "events": events}
            queries["eventSummary"] = summary
            open_before = await live_subscriptions(http)
            # Another trader's: the churn uses all 20 sockets one user may hold.
            holder = (await register(gql, "soak-held@example.com"))["accessToken"]
            held_portfolio = await funded_portfolio(gql, holder, "100000")
            await place(gql, holder, held_portfolio, "BUY", "10")
            held = HeldDashboards(server.url, holder, held_portfolio)
            await held.start()
            churn = SubscriptionChurn(server.url, trader, portfolio_id)
            churn.start()
            with HealthProbe(http) as probe:
                while (elapsed := time.perf_counter() - started) < minutes * 60:
                    row: dict[str, float] = {"minute": elapsed / 60}
                    for name, call in queries.items():
                        row[name] = statistics.median(await _timed(call, 3))
                    row["rss_mb"] = rss_mb(server.process.pid)
                    row["healthz_worst_ms"] = probe.worst_ms
                    probe.latencies.clear()
                    rows.append(row)
                    print(json.dumps({k: round(v, 1) for k, v in row.items()}), file=sys.stderr)
                    await asyncio.sleep(max(0.0, every - (time.perf_counter() - started - elapsed)))
            await churn.stop()
            await held.stop()
            open_after = await _settled(http, open_before)
    finally:
        await server.stop()
    _report(rows, minutes)
    print(describe(churn, held, open_before, open_after))
    print(
        "open subscriptions back where they started -> "
        + ("ok" if open_after == open_before else "MISSED")
    )


async def _settled(http: httpx.AsyncClient, expected: dict[str, float]) -> dict[str, float]:
    """The open subscriptions once the last churned sockets' closes are processed (or 30 s)."""
    deadline = time.perf_counter() + 30
    while (found := await live_subscriptions(http)) != expected and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)  # closes are processed by the server; no event to await here
    return found


def _report(rows: list[dict[str, float]], minutes: float) -> None:
    names = ["candles", "portfolio", "events", "eventSummary"]
    print(f"\nsoak: {minutes:g} min, medians of 3 per sample (ms)")
    print("| minute | " + " | ".join(names) + " | RSS MB | worst /healthz ms |")
    print("|---:|" + "---:|" * (len(names) + 2))
    for row in rows:
        cells = [f"{row[n]:.0f}" for n in names]
        cells += [f"{row['rss_mb']:.0f}", f"{row['healthz_worst_ms']:.0f}"]
        print(f"| {row['minute']:.2f} | " + " | ".join(cells) + " |")

    def near(minute: float) -> list[dict[str, float]]:
        return [r for r in rows if minute - 0.5 <= r["minute"] < minute + 0.5] or rows[-1:]

    early, late = near(1), near(minutes)
    verdicts = []
    for name in names:
        a = statistics.median(r[name] for r in early)
        b = statistics.median(r[name] for r in late)
        verdicts.append((name, a, b, b <= 1.5 * a + 20))
    grown = near(minutes)[-1]["rss_mb"] - near(min(2, minutes))[0]["rss_mb"]
    worst = max(r["healthz_worst_ms"] for r in rows)
    for name, a, b, ok in verdicts:
        print(
            f"{name}: minute 1 {a:.0f} ms, minute {minutes:g} {b:.0f} ms -> "
            + ("ok" if ok else "MISSED")
        )
    print(
        f"RSS growth minute 2 -> {minutes:g}: {grown:.0f} MB -> {'ok' if grown <= 60 else 'MISSED'}"
    )
    print(f"/healthz worst: {worst:.0f} ms -> {'ok' if worst <= 250 else 'MISSED'}")
