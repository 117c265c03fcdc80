"""A trading day at scale: N simulated traders, each a live dashboard, on one server process.

Subject: `tradegraph serve --seed` (emulated store, memory broker, the simulated feed at its
normal rate: every instrument quotes once a second). The traders run in client processes
(bench/day_traders.py, raw websockets and httpx); see bench/day_plan.py for who they are.
Same run, three phases:
1. idle baseline: one trader alone, acting every 0.5-1.5 s so its latencies have samples;
2. relay baseline: N sockets on the bare relay (bench/bare_broadcast.py), 12 quote frames per
   socket per second (as each trader's watchlist gets), tick-to-client latency;
3. the day: N traders, set up (register, fund, buy 3-8 holdings), subscribed, then trading for
   --minutes, /healthz probed from its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets

from bench.day_plan import BRL, USD
from bench.quotes_fanout import (
    HealthProbe,
    _bare_server,
    cpu_seconds,
    raise_open_file_limit,
    rss_kib,
)
from tests.e2e.conftest import ADMIN_ENV
from tests.support.servers import start_tradegraph

Histogram = Counter[int]


class Clients:
    """Client processes of one phase, driven over their stdin and stdout (JSON lines)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.processes: list[asyncio.subprocess.Process] = []
        self.progress: dict[int, dict[str, Any]] = {}
        self._results: list[asyncio.Future[Any]] = []

    async def start(self, configs: list[dict[str, Any]]) -> None:
        for config in configs:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.day_traders",
                json.dumps(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**24,
            )
            self.processes.append(process)
        await asyncio.gather(*(self._until(i, "ready") for i in range(len(self.processes))))
        # read on while they run: progress is shown, and the pipes never fill up
        self._results = [
            asyncio.ensure_future(self._until(i, "result")) for i in range(len(self.processes))
        ]

    async def _until(self, index: int, kind: str) -> Any:
        stdout = self.processes[index].stdout
        assert stdout is not None
        while line := await stdout.readline():
            message = json.loads(line)
            if "progress" in message:
                self.progress[index] = {**self.progress.get(index, {}), **message["progress"]}
                self._show()
            elif kind in message:
                return message[kind]
        raise RuntimeError(f"{self.label}: a client process ended early")

    def _show(self) -> None:
        totals: Counter[str] = Counter()
        for progress in self.progress.values():
            totals.update(progress)
        shown = ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
        print(f"  {self.label}: {shown}", file=sys.stderr, flush=True)

    async def send(self, command: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(f"{command}\n".encode())
            await process.stdin.drain()

    async def results(self) -> dict[str, Any]:
        parts = await asyncio.gather(*self._results)
        for process in self.processes:
            await process.wait()
        merged: dict[str, Any] = {}
        for part in parts:
            for key, value in part.items():
                if isinstance(value, dict):
                    bins = Counter({int(k): v for k, v in value.items()})
                    merged[key] = merged.get(key, Counter()) + bins
                elif isinstance(value, list):
                    merged[key] = merged.get(key, []) + value
                else:
                    merged[key] = merged.get(key, 0) + value
        return merged


def percentile_ms(histogram: Histogram, fraction: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank = max(1, int(total * fraction + 0.5))
    seen = 0
    for bin_, count in sorted(histogram.items()):
        seen += count
        if seen >= rank:
            return bin_ / 10
    return float("nan")


def worst_ms(histogram: Histogram) -> float:
    return max(histogram) / 10 if histogram else float("nan")


def configs(url: str, run: str, traders: int, clients: int, **extra: Any) -> list[dict[str, Any]]:
    share = -(-traders // clients)
    return [
        {"url": url, "run": run, "first": first, "count": min(share, traders - first), **extra}
        for first in range(0, traders, share)
    ]


@contextlib.asynccontextmanager
async def profiled(pid: int, path: str | None, seconds: float) -> AsyncIterator[None]:
    """py-spy samples the server meanwhile, written as collapsed stacks to `path`."""
    if path is None:
        yield
        return
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--output",
        path,
        "--rate",
        "50",
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await spy.wait()
        print(top_of_profile(path), file=sys.stderr)


def top_of_profile(path: str, lines: int = 12) -> str:
    """Where the server's time went, from collapsed stacks: the tradegraph functions most
    often on the stack (inclusive), then the functions most often running (self)."""
    inclusive: Counter[str] = Counter()
    running: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        running[frames[-1]] += int(count)
        for frame in set(frames):
            if "(tradegraph/" in frame:
                inclusive[frame] += int(count)

    def share(counter: Counter[str]) -> list[str]:
        return [f"{100 * n / max(total, 1):5.1f}%  {f}" for f, n in counter.most_common(lines)]

    head = f"py-spy: {total} samples; tradegraph functions on the stack:"
    return "\n".join([head, *share(inclusive), "running (self):", *share(running)])


async def trading_phase(
    server_url: str,
    pid: int,
    label: str,
    traders: int,
    clients: int,
    seconds: float,
    profile: str | None = None,
    **plan: Any,
) -> dict[str, Any]:
    group = Clients(label)
    rss_before = rss_kib(pid)
    await group.start(configs(server_url, **plan, traders=traders, clients=clients))
    rss_after = rss_kib(pid)
    probe = HealthProbe(server_url)
    await probe.start()
    cpu_before = cpu_seconds(pid)
    started = time.monotonic()
    await group.send("go")
    async with profiled(pid, profile, seconds):
        await asyncio.sleep(seconds)  # the length of the trading day
    await group.send("stop")
    cpu = cpu_seconds(pid) - cpu_before
    minutes = (time.monotonic() - started) / 60
    try:
        health = Counter(int(ms * 10) for ms in await probe.latencies_ms())
    except (IndexError, ValueError):  # the probe died: a /healthz failed or took over 30 s
        health = Counter({300_000: 1})
    result = await group.results()
    result["health"] = health
    result["cpu_s_per_trader_minute"] = cpu / traders / minutes
    result["kib_per_trader"] = (rss_after - rss_before) / traders
    result["traders"] = traders
    return result


async def relay_phase(subscribers: int, clients: int, seconds: float) -> dict[str, Any]:
    relay, relay_url = await _bare_server()
    group = Clients("relay")
    try:
        await group.start(
            configs("", "relay", subscribers, clients, relay_url=relay_url, drain_seconds=2)
        )
        await group.send("go")
        async with websockets.connect(relay_url + "/publish") as publisher:
            symbols = (BRL + USD)[:12]
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                now = datetime.now(UTC).isoformat()
                for n, symbol in enumerate(symbols):
                    quote = {
                        "symbol": symbol,
                        "bid": f"{10 + n}.00",
                        "ask": f"{10 + n}.02",
                        "mid": f"{10 + n}.010",
                        "changePercent": None,
                        "timestamp": now,
                    }
                    frame = {"id": "q", "type": "next", "payload": {"data": {"quotes": quote}}}
                    await publisher.send(json.dumps(frame))
                await asyncio.sleep(1.0)  # the feed's rhythm: one quote per symbol a second
        await group.send("stop")
        return await group.results()
    finally:
        relay.terminate()
        await relay.wait()


async def main(
    traders: int,
    minutes: float,
    clients: int,
    idle_seconds: float,
    relay_seconds: float,
    watchlists: int,
    history_days: int,
    profile: str | None = None,
) -> None:
    limit = raise_open_file_limit()
    if 2 * traders + 200 > limit:
        raise SystemExit(f"{traders} traders need more open files than the limit {limit}")
    run = uuid.uuid4().hex[:6]
    print(f"starting tradegraph serve --seed ({history_days} days of history)", file=sys.stderr)
    server = await start_tradegraph(
        {
            **ADMIN_ENV,
            "TRADEGRAPH_MARKET_FEED": "simulated",
            "TRADEGRAPH_SEED_HISTORY_DAYS": str(history_days),
            "TRADEGRAPH_ACCESS_TOKEN_TTL_SECONDS": "86400",  # the day outlasts 15 minutes
            "TRADEGRAPH_MONGODB_DATABASE": f"tradegraph_day_{run}",
            # every trader registers from 127.0.0.1; in-flight registrations hold a slot each
            "TRADEGRAPH_REGISTER_MAX_CONFLICTS_PER_ADDRESS": str(traders + 100),
        },
        "--seed",
        start_timeout=900,
    )
    pid = server.process.pid
    plan: dict[str, Any] = {"watchlists": watchlists, "setup_concurrency": 16, "drain_seconds": 60}
    try:
        idle = await trading_phase(
            server.url,
            pid,
            "idle",
            1,
            1,
            idle_seconds,
            run=f"{run}i",
            every_min=0.5,
            every_max=1.5,
            **plan,
        )
        relay = await relay_phase(traders, clients, relay_seconds)
        day = await trading_phase(
            server.url,
            pid,
            "day",
            traders,
            clients,
            minutes * 60,
            run=f"{run}d",
            every_min=30.0,
            every_max=90.0,
            profile=profile,
            **plan,
        )
    finally:
        try:
            await server.stop()
        except TimeoutError:  # a saturated server may not finish its shutdown in time
            server.process.kill()
            await server.process.wait()
    report(traders, minutes, idle, relay, day)


def report(
    traders: int, minutes: float, idle: dict[str, Any], relay: dict[str, Any], day: dict[str, Any]
) -> None:
    def row(name: str, result: dict[str, Any]) -> str:
        return (
            f"{name:<14}{percentile_ms(result['ack'], 0.5):>9.1f}"
            f"{percentile_ms(result['ack'], 0.99):>9.1f}"
            f"{percentile_ms(result['fill_delivery'], 0.99):>9.1f}"
            f"{percentile_ms(result['quotes'], 0.99):>9.1f}"
            f"{percentile_ms(result['staleness'], 0.99):>9.0f}"
            f"{percentile_ms(result['health'], 0.99):>9.1f}{worst_ms(result['health']):>9.1f}"
            f"{result['cpu_s_per_trader_minute']:>9.3f}{result['kib_per_trader']:>9.0f}"
        )

    print(f"\ntrading day: {traders} traders for {minutes:g} min; idle baseline: 1 trader")
    print(
        f"{'':<14}{'ack p50':>9}{'ack p99':>9}{'fill p99':>9}{'quote99':>9}{'stale99':>9}"
        f"{'hz p99':>9}{'hz worst':>9}{'cpu s/tm':>9}{'KiB/tr':>9}   (ms unless stated)"
    )
    print(row("idle (N=1)", idle))
    print(row(f"day (N={traders})", day))
    relay_p99 = percentile_ms(relay["quotes"], 0.99)
    print(f"{'relay':<14}{'':>27}{relay_p99:>9.1f}   bare websockets, {traders} sockets")
    print(
        f"orders {day['orders']}, amends {day['amends']} (+{day['amends_refused']} refused: "
        f"filled first), fills {day['fills']}, values {day['values']}, quotes "
        f"{sum(day['quotes'].values())}, candles {day['candles']}; held ticks no value included "
        f"by the end: {day['unmatched_ticks']}"
    )
    ack99 = percentile_ms(day["ack"], 0.99)
    checks = {
        "order ack p99 <= 3x idle and <= 150 ms": ack99
        <= min(150.0, 3 * percentile_ms(idle["ack"], 0.99)),
        "quote p99 <= 2x relay": percentile_ms(day["quotes"], 0.99) <= 2 * relay_p99,
        "portfolioValue staleness p99 <= 1.5 s": percentile_ms(day["staleness"], 0.99) <= 1500,
        "/healthz worst <= 250 ms": worst_ms(day["health"]) <= 250,
        "order events exactly once, in order": day["problem_count"] == 0,
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    for problem in day["problems"][:10]:
        print(f"  problem: {problem}")
    print(f"failed requests: {day['error_count']}")
    for error in day["errors"][:5]:
        print(f"  error: {error}")
