"""Fair share (issue 20): each attack runs as a bounded workload beside a victim, another user
doing ordinary things one at a time: `{ me { id } }`, a `quote`, an `orders` page, a quote
delivered to its quotes subscription, and GET /healthz. The victim's p50/p99 under each attack
are set against the same victim on the same server, idle, measured in the same run. Target:
every attack keeps the victim's p99 <= 3x idle and <= 250 ms.

The server is a `tradegraph serve` subprocess (default embedded store), seeded with `--events`
events and, for the heatmap attack, a finished optimisation of `--heatmap-rows` combinations.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.fairness_attacks import ATTACKS
from bench.fairness_world import World, open_socket, setup
from tests.support.clients import GraphQLClient
from tests.support.trading import (
    PUBLISH_QUOTE,
)

TARGET_RATIO = 3.0
TARGET_MS = 250.0
ME = "{ me { id } }"
QUOTE = 'query { quote(symbol: "PETR4") { bid ask } }'
ORDERS = "query($id: ID!) { orders(portfolioId: $id, first: 20) { edges { node { id } } } }"
QUOTES = 'subscription { quotes(symbols: ["PETR4"]) { bid } }'


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Victim:
    """Another user, one request at a time, each kind timed apart."""

    def __init__(self, world: World, http: httpx.AsyncClient) -> None:
        self.world = world
        self.gql = GraphQLClient(http)
        self.http = http

    async def run(self, stop: asyncio.Event) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {
            k: [] for k in ("me", "quote", "orders", "quotes sub", "healthz")
        }
        socket = await open_socket(self.world.ws_url, self.world.victim)
        await socket.send(
            json.dumps({"id": "q", "type": "subscribe", "payload": {"query": QUOTES}})
        )
        await asyncio.sleep(0.2)  # subscribed (the protocol does not acknowledge a subscribe)
        tick = 0
        try:
            while not stop.is_set():
                token = self.world.victim
                await _timed(times["me"], self.gql.data(ME, token=token))
                await _timed(times["quote"], self.gql.data(QUOTE, token=token))
                variables = {"id": self.world.victim_portfolio}
                await _timed(times["orders"], self.gql.data(ORDERS, variables, token))
                await _timed(times["healthz"], self.http.get("/healthz"))
                tick += 1
                bid = f"{10 + (tick % 50) / 100:.2f}"
                await _timed(times["quotes sub"], self._quote_arrives(socket, bid))
                await asyncio.sleep(0.02)
        finally:
            await socket.close()
        return times

    async def _quote_arrives(self, socket: Any, bid: str) -> None:
        quote = {"symbol": "PETR4", "bid": bid, "ask": f"{float(bid) + 0.02:.2f}"}
        await self.gql.data(PUBLISH_QUOTE, {"input": quote}, self.world.admin)
        async with asyncio.timeout(30):
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") == "next":
                    if message["payload"]["data"]["quotes"]["bid"].startswith(bid):
                        return
                elif message.get("type") == "ping":
                    await socket.send(json.dumps({"type": "pong"}))


async def _timed(sink: list[float], work: Awaitable[Any]) -> None:
    started = time.perf_counter()
    await work
    sink.append(1000 * (time.perf_counter() - started))


async def _phase(
    world: World,
    seconds: float,
    attack: Callable[[World, httpx.AsyncClient, asyncio.Event], Awaitable[str]] | None,
) -> tuple[dict[str, list[float]], str]:
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with (
        httpx.AsyncClient(base_url=world.server.url, timeout=120) as victim_http,
        httpx.AsyncClient(base_url=world.server.url, timeout=120, limits=limits) as attack_http,
    ):
        attacking = asyncio.create_task(attack(world, attack_http, stop)) if attack else None
        if attacking is not None:
            await asyncio.sleep(min(2.0, seconds / 3))  # the attack under way before measuring
        victim = asyncio.create_task(Victim(world, victim_http).run(stop))
        await asyncio.sleep(seconds)
        stop.set()
        times = await victim
        note = await attacking if attacking is not None else "no attack"
    return times, note


def _report(
    idle: dict[str, list[float]], results: list[tuple[str, dict[str, list[float]], str]]
) -> None:
    print("\n| phase | victim | n | p50 ms | p99 ms | p99 / idle | within target |")
    print("|---|---|---:|---:|---:|---:|---|")
    verdicts = []
    for name, times, note in [("idle", idle, ""), *results]:
        worst_ok = True
        for kind, values in times.items():
            p50, p99 = _pct(values, 0.5), _pct(values, 0.99)
            ratio = p99 / _pct(idle[kind], 0.99)
            ok = ratio <= TARGET_RATIO and p99 <= TARGET_MS
            worst_ok &= ok
            verdict = "yes" if ok else "NO"
            row = f"| {name} | {kind} | {len(values)} | {p50:.0f} | {p99:.0f} | {ratio:.1f} |"
            print(f"{row} {verdict} |")
        if name != "idle":
            verdicts.append((name, worst_ok, note))
    print("\n| attack | every victim within 3x idle p99 and 250 ms | attack workload |")
    print("|---|---|---|")
    for name, ok, note in verdicts:
        print(f"| {name} | {'yes' if ok else 'NO'} | {note} |")


async def main(seconds: float, events: int, heatmap_rows: int, only: list[str] | None) -> None:
    started = time.perf_counter()
    world = await setup(events, heatmap_rows)
    took = time.perf_counter() - started
    print(f"setup: {events} events, heatmap of {heatmap_rows} rows, {took:.0f} s", flush=True)
    try:
        idle, _ = await _phase(world, seconds, None)
        results = []
        for name, attack in ATTACKS.items():
            if only and name not in only:
                continue
            times, note = await _phase(world, seconds, attack)
            print(f"{name}: {note}", flush=True)
            results.append((name, times, note))
        _report(idle, results)
        overall = statistics.fmean(_pct(v, 0.99) for v in idle.values())
        print(f"\nidle victim p99, mean over kinds: {overall:.0f} ms")
    finally:
        await world.server.stop()
