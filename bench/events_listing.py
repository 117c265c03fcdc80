"""events(first: 20) over GraphQL vs a plain Starlette JSON endpoint returning the same 20 events
from the same store in the same process and run (the baseline), then webhook ingest events/s.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from beanie import SortDirection
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tqdm import tqdm

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LOGIN, server_settings
from tests.support.clients import WEBHOOK_SECRET, send_webhook
from tradegraph.documents import Event
from tradegraph.server import start_server

EVENTS_QUERY = (
    "{ events(first: 20) { edges { node { id userId type value timestamp metadata } } } }"
)


async def plain_events(request: Request) -> JSONResponse:
    """Baseline: the same 20 newest events, same store, no GraphQL."""
    found = (
        await Event.find_all()
        .sort([("timestamp", SortDirection.DESCENDING), ("_id", SortDirection.DESCENDING)])
        .limit(20)
        .to_list()
    )
    return JSONResponse(
        [
            {
                "id": str(e.id),
                "userId": e.user_id,
                "type": e.type,
                "value": e.value,
                "timestamp": e.timestamp.isoformat(),
                "metadata": e.metadata,
            }
            for e in found
        ]
    )


async def measure(
    name: str, call: Callable[[], Awaitable[object]], requests: int, concurrency: int
) -> dict:
    latencies: list[float] = []
    queue = iter(range(requests))
    bar = tqdm(total=requests, desc=name, unit="req", file=sys.stderr, leave=False)

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)
            bar.update()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    bar.close()
    latencies.sort()
    return {
        "name": name,
        "rps": requests / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
    }


async def main(requests: int, events: int, concurrency: int) -> None:
    running = await start_server(server_settings(webhook_secret=WEBHOOK_SECRET))
    running.app.router.routes.append(Route("/plain/events", plain_events))
    async with httpx.AsyncClient(base_url=running.url, timeout=60) as http:
        batches = [
            [
                {
                    "userId": f"u{i % 50}",
                    "type": "purchase",
                    "value": i % 97,
                    "timestamp": datetime.now(UTC).isoformat(),
                    "metadata": {"n": i},
                }
                for i in range(start, min(start + 1000, events))
            ]
            for start in range(0, events, 1000)
        ]
        started = time.perf_counter()
        for number, batch in enumerate(tqdm(batches, desc="ingest", unit="batch", file=sys.stderr)):
            assert (await send_webhook(http, batch, f"bench-{number}")).status_code == 200
        ingest_rate = events / (time.perf_counter() - started)

        token = (
            await http.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                },
            )
        ).json()["data"]["login"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}

        async def graphql() -> None:
            response = await http.post("/graphql", json={"query": EVENTS_QUERY}, headers=headers)
            assert len(response.json()["data"]["events"]["edges"]) == 20

        async def plain() -> None:
            assert len((await http.get("/plain/events")).json()) == 20

        await measure("warm-up", graphql, 50, concurrency)
        baseline = await measure("plain Starlette", plain, requests, concurrency)
        subject = await measure("GraphQL events(first: 20)", graphql, requests, concurrency)
    await running.stop()
    store = "in-process emulation" if running.app.state.services.store.emulated else "MongoDB"
    print(f"\nstore: {store}; {events} events; {requests} requests, concurrency {concurrency}")
    print(f"{'endpoint':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for row in (baseline, subject):
        print(f"{row['name']:<28}{row['rps']:>10.1f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}")
    print(f"GraphQL / plain throughput ratio: {subject['rps'] / baseline['rps']:.2f}")
    print(f"webhook ingest: {ingest_rate:,.0f} events/s (batches of 1,000)")
    print(json.dumps({"ratio": subject["rps"] / baseline["rps"], "ingest_eps": ingest_rate}))
