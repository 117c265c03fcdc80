"""`tradegraph serve --seed` on the embedded store: how long the price history takes to store,
what it costs in memory, how the server answers meanwhile, how fast candles read it, and how
long the snapshot and shutdown of that store take.

python -m bench seed [--days 30] [--before /work/main]
    a `serve --seed` subprocess with snapshots on (TRADEGRAPH_DATA_DIR, a fresh directory) and
    the simulated feed; while it seeds, GET /healthz and an `instruments` query (a store call)
    every 100 ms; then candles reads, then SIGTERM timed to exit (the final snapshot). With
    --before, the same run first with another checkout's code and virtualenv (the baseline:
    e.g. the main checkout, bars stored one per document), in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.store import rss_mb
from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import GraphQLClient

CANDLES = """query($symbol: String!, $interval: CandleInterval!, $from: DateTime!) {
  candles(symbol: $symbol, interval: $interval, from: $from) { start close }
}"""
SHAPES = (("ONE_MINUTE", 1), ("ONE_HOUR", None), ("ONE_DAY", None))  # span: 1 day or --days


@dataclass
class SeedRun:
    """What one `serve --seed` process measured."""

    label: str
    start_to_seeded: float = 0.0  # process start to "price history seeded"
    history_seconds: float = 0.0  # "instruments seeded" to "price history seeded"
    start_to_listening: float = 0.0  # process start to "listening": the whole seed done
    rss_before: float = 0.0  # MB, once the instruments are seeded
    rss_after: float = 0.0  # MB, once the price history is seeded
    peak: float = 0.0
    health: list[float] = field(default_factory=list)
    store: list[float] = field(default_factory=list)
    candles: dict[str, tuple[int, float]] = field(default_factory=dict)  # p50 ms
    shutdown_seconds: float = 0.0  # SIGTERM to exit, the final snapshot included
    snapshot_mb: float = 0.0
    journal_mb: float = 0.0
    restart_health: float = 0.0  # restart: spawn to /healthz 200
    restart_candles: float = 0.0  # restart: spawn to candles ONE_DAY answered in full
    restart_days: int = 0


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


def _python_of(checkout: Path | None) -> str:
    return sys.executable if checkout is None else str(checkout / ".venv" / "bin" / "python")


async def _read_candles(http: httpx.AsyncClient, run: SeedRun, days: int, repeats: int) -> None:
    gql = GraphQLClient(http)
    token = await login_admin(gql)
    now = datetime.now(UTC)
    for interval, span in SHAPES:
        since = (now - timedelta(days=span or days) + timedelta(minutes=1)).isoformat()
        variables = {"symbol": "PETR4", "interval": interval, "from": since}
        latencies = []
        for _ in range(repeats):
            started = time.perf_counter()
            data = await gql.data(CANDLES, variables, token=token)
            latencies.append(1000 * (time.perf_counter() - started))
        run.candles[interval] = (len(data["candles"]), statistics.median(latencies))


class Server:
    """A `tradegraph serve` subprocess and the time each JSON log event first appeared."""

    def __init__(self, checkout: Path | None, env: dict[str, str], *args: str) -> None:
        self.checkout, self.env, self.args = checkout, env, args
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events: dict[str, float] = {}
        self.logged = {name: asyncio.Event() for name in ("instruments seeded", "listening")}

    async def start(self) -> None:
        self.spawned = time.perf_counter()
        self.process = await asyncio.create_subprocess_exec(
            _python_of(self.checkout), "-m", "tradegraph", "serve", "--port", str(self.port),
            *self.args, env=self.env, cwd=self.checkout, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self.reader = asyncio.create_task(self._read_log())

    async def _read_log(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            line = line.split(b"\r")[-1]  # after the progress bar's redraws
            if line.startswith(b"{"):
                event = json.loads(line).get("event", "")
                self.events.setdefault(event, time.perf_counter())
                if event in self.logged:
                    self.logged[event].set()

    async def stop(self) -> float:
        """SIGTERM; returns the seconds to exit."""
        terminated = time.perf_counter()
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 120)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.reader.cancel()
        return time.perf_counter() - terminated


async def _seed(server: Server, run: SeedRun, days: int, repeats: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
        await server.logged["instruments seeded"].wait()
        pid = server.process.pid
        run.rss_before = run.peak = rss_mb(pid)
        while "price history seeded" not in server.events:
            run.health.append(await _probe(http, "/healthz", None))
            body = {"query": "{ instruments { symbol } }"}
            run.store.append(await _probe(http, "/graphql", body))
            run.peak = max(run.peak, rss_mb(pid))
            await asyncio.sleep(0.1)
        run.rss_after = rss_mb(pid)
        seeded = server.events["price history seeded"]
        run.start_to_seeded = seeded - server.spawned
        run.history_seconds = seeded - server.events["instruments seeded"]
        await server.logged["listening"].wait()
        run.start_to_listening = server.events["listening"] - server.spawned
        await _read_candles(http, run, days, repeats)


async def _restart(server: Server, run: SeedRun, days: int) -> None:
    """Seconds from spawn to /healthz, and to the first full answer of candles ONE_DAY over
    the seeded days (SERVICE_UNAVAILABLE while market data loads)."""
    variables = {
        "symbol": "PETR4",
        "interval": "ONE_DAY",
        "from": (datetime.now(UTC) - timedelta(days=days)).isoformat(),
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
        await server.logged["listening"].wait()
        assert (await http.get("/healthz")).status_code == 200
        run.restart_health = time.perf_counter() - server.spawned
        gql = GraphQLClient(http)
        token = await login_admin(gql)
        # A call on loading data waits (TRADEGRAPH_LOADING_WAIT_SECONDS) before it is refused:
        # the server paces these retries.
        for _ in range(60):
            body = await gql.execute(CANDLES, variables, token)
            if "errors" not in body:
                break
        run.restart_candles = time.perf_counter() - server.spawned
        run.restart_days = len(body["data"]["candles"])


async def seed_once(label: str, checkout: Path | None, days: int, repeats: int = 7) -> SeedRun:
    """One `serve --seed` with `checkout`'s code (None: this one), measured; then a restart
    from what it left in its data directory."""
    run = SeedRun(label)
    data_dir = tempfile.mkdtemp(prefix="bench-seed-")
    env = {
        **os.environ,
        **ADMIN_ENV,
        "TRADEGRAPH_LOG_FORMAT": "json",
        "TRADEGRAPH_DATA_DIR": data_dir,
        "TRADEGRAPH_SEED_HISTORY_DAYS": str(days),
    }
    try:
        seeding = Server(checkout, env, "--seed")
        await seeding.start()
        try:
            await _seed(seeding, run, days, repeats)
        finally:
            run.shutdown_seconds = await seeding.stop()
        run.snapshot_mb, run.journal_mb = _megabytes_in(data_dir)
        restarted = Server(checkout, env)
        await restarted.start()
        try:
            await _restart(restarted, run, days)
        finally:
            await restarted.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return run


def _megabytes_in(directory: str) -> tuple[float, float]:
    """Megabytes of (snapshot, journal) files in a data directory."""
    files = list(Path(directory).iterdir())
    snapshot = sum(f.stat().st_size for f in files if f.name.endswith(".snapshot.bson"))
    journal = sum(f.stat().st_size for f in files if ".journal" in f.name)
    return snapshot / 2**20, journal / 2**20


def _report(run: SeedRun, days: int) -> None:
    print(f"[{run.label}] {days} days of one-minute bars for every instrument:")
    print(
        f"  seeded {run.history_seconds:.1f} s ({run.start_to_seeded:.1f} s from process start, "
        f"{run.start_to_listening:.1f} s to the whole seed done, events included); "
        f"RSS {run.rss_before:.0f} -> {run.rss_after:.0f} MB "
        f"(+{run.rss_after - run.rss_before:.0f}), peak {run.peak:.0f}"
    )
    for name, values in (("/healthz", run.health), ("instruments query", run.store)):
        if values:
            median, worst = statistics.median(values), max(values)
            print(f"  while seeding, {name}: p50 {median:.0f} ms, max {worst:.0f} ms")
    for interval, (count, p50) in run.candles.items():
        print(f"  candles {interval} ({count}): p50 {p50:.0f} ms")
    print(
        f"  SIGTERM to exit: {run.shutdown_seconds:.1f} s; left on disk: snapshot "
        f"{run.snapshot_mb:.0f} MB, journal {run.journal_mb:.0f} MB"
    )
    print(
        f"  restart: /healthz after {run.restart_health:.1f} s, candles ONE_DAY "
        f"({run.restart_days}) after {run.restart_candles:.1f} s"
    )


async def seed_and_read(days: int, before: str | None = None) -> None:
    runs = []
    if before:
        runs.append(await seed_once(f"before: {before}", Path(before), days))
        _report(runs[-1], days)
    runs.append(await seed_once("after: this checkout", None, days))
    _report(runs[-1], days)
    if len(runs) == 2:
        old, new = runs
        print("after / before:")
        print(f"  seeding time {new.history_seconds / old.history_seconds:.2f}x")
        grown_old, grown_new = old.rss_after - old.rss_before, new.rss_after - new.rss_before
        growth, after = grown_new / max(grown_old, 1), new.rss_after / old.rss_after
        print(f"  RSS growth {growth:.2f}x, RSS after {after:.2f}x")
        for interval in new.candles:
            ratio = new.candles[interval][1] / old.candles[interval][1]
            print(f"  candles {interval} p50 {ratio:.2f}x")
        print(f"  SIGTERM to exit {new.shutdown_seconds / old.shutdown_seconds:.2f}x")
        print(f"  restart to candles {new.restart_candles / old.restart_candles:.2f}x")
