"""The journal's cost and a restart with a seeded month, against `tradegraph serve` subprocesses.

python -m bench durability [--seconds 10] [--writers 16] [--seed-dir DIR]
    1. acknowledged writes/s (`deposit` mutations from --writers concurrent clients for
       --seconds), on a server with the journal (a data directory, default sync interval),
       with TRADEGRAPH_JOURNAL_SYNC_MS=0, and memory-only (no journal), alternated twice in
       the same run; the ratio journal / memory-only is the cost (target >= 0.7)
    2. a restart on a data directory holding a seeded month (made with `serve --seed` unless
       --seed-dir names one): seconds from process start to /healthz, to a GraphQL answer, and
       to /readyz `ready`; RSS once loaded; seconds from SIGTERM to exit
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.store import rss_mb
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_ENV, ADMIN_PASSWORD, register
from tests.support.clients import GraphQLClient
from tests.support.trading import CREATE_PORTFOLIO, DEPOSIT

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}"""
ADMIN = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


async def _spawn(env: dict[str, str], *args: str) -> tuple[asyncio.subprocess.Process, str]:
    """`tradegraph serve --port 0`; returns once it logs `listening`, with its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradegraph", "serve", "--port", "0", *args,
        env={**os.environ, **ADMIN_ENV, "TRADEGRAPH_LOG_FORMAT": "json", "TRADEGRAPH_DEMO": "false",
             "TRADEGRAPH_REGISTER_MAX_CONFLICTS_PER_ADDRESS": "1000", **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    while line := (await process.stderr.readline()).decode():
        found = re.search(r'"url": "(http://[^"]+)"', line)
        if found and '"event": "listening"' in line:
            asyncio.get_running_loop().create_task(_drain(process.stderr))
            return process, found.group(1)
    raise RuntimeError("tradegraph did not start")


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def _stop(process: asyncio.subprocess.Process) -> float:
    """SIGTERM; seconds until it exited."""
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    await process.wait()
    return time.perf_counter() - started


async def _deposits_per_second(env: dict[str, str], clients: int, seconds: float) -> float:
    process, url = await _spawn({"TRADEGRAPH_MARKET_FEED": "none", **env})
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            gql = GraphQLClient(http)
            accounts = []
            for number in range(clients):
                token = (await register(gql, f"bench-{number}@example.com"))["accessToken"]
                created = await gql.data(CREATE_PORTFOLIO, {"name": "B", "currency": "BRL"}, token)
                accounts.append((token, created["createPortfolio"]["id"]))
            done = 0
            deadline = time.perf_counter() + seconds

            async def deposit(token: str, portfolio_id: str) -> None:
                nonlocal done
                while time.perf_counter() < deadline:
                    await gql.data(DEPOSIT, {"id": portfolio_id, "amount": "1.25"}, token)
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(deposit(token, pid) for token, pid in accounts))
            return done / (time.perf_counter() - started)
    finally:
        await _stop(process)


async def journal_cost(clients: int, seconds: float) -> None:
    variants = {
        "memory only (no journal)": lambda d: {"TRADEGRAPH_DATA_DIR": ""},
        "journal, sync every 100 ms": lambda d: {"TRADEGRAPH_DATA_DIR": d},
        "journal, TRADEGRAPH_JOURNAL_SYNC_MS=0": lambda d: {
            "TRADEGRAPH_DATA_DIR": d,
            "TRADEGRAPH_JOURNAL_SYNC_MS": "0",
        },
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(2):  # alternated: the machine's load drifts
        for name, env_of in variants.items():
            with tempfile.TemporaryDirectory() as directory:
                database = {"TRADEGRAPH_MONGODB_DATABASE": f"bench_{uuid.uuid4().hex[:8]}"}
                rate = await _deposits_per_second(
                    {**env_of(directory), **database}, clients, seconds
                )
                rates[name].append(rate)
    base = statistics.mean(rates["memory only (no journal)"])
    print(f"\nacknowledged deposits/s, {clients} concurrent clients, {seconds:g} s per run")
    print("| store | runs | mean | ratio to memory only |")
    print("|---|---|---:|---:|")
    for name, values in rates.items():
        mean = statistics.mean(values)
        runs = " / ".join(f"{value:,.0f}" for value in values)
        print(f"| {name} | {runs} | {mean:,.0f} | {mean / base:.2f} |")


async def _until(http: httpx.AsyncClient, check: str, started: float) -> float:
    """Seconds from `started` until `check` answers as wanted (polled every 20 ms)."""
    while True:
        try:
            if check == "healthz":
                ok = (await http.get("/healthz")).status_code == 200
            elif check == "graphql":  # a login: reads the users collection
                body = await http.post("/graphql", json={"query": LOGIN, "variables": ADMIN})
                ok = body.status_code == 200 and "errors" not in body.json()
            else:
                ok = (await http.get("/readyz")).status_code == 200
        except httpx.TransportError:
            ok = False
        if ok:
            return time.perf_counter() - started
        if time.perf_counter() - started > 300:
            raise RuntimeError(f"{check} not answering after 300 s")
        await asyncio.sleep(0.02)


async def _seeded_month(directory: Path) -> None:
    print(f"seeding a month into {directory} (serve --seed)...", file=sys.stderr)
    process, _ = await _spawn({"TRADEGRAPH_DATA_DIR": str(directory)}, "--seed")
    await _stop(process)


async def _timed_start(env: dict[str, str]) -> dict[str, float]:
    """Seconds from process start to listening, /healthz, a GraphQL login and /readyz ready;
    RSS once ready; seconds from SIGTERM to exit."""
    started = time.perf_counter()
    process, url = await _spawn(env)
    times = {"listening": time.perf_counter() - started}
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for check in ("healthz", "graphql", "readyz"):
            times[check] = await _until(http, check, started)
    times["rss_mb"] = rss_mb(process.pid)
    times["shutdown"] = await _stop(process)
    return times


async def seeded_restart(seed_dir: str | None) -> None:
    directory = Path(seed_dir) if seed_dir else Path(tempfile.mkdtemp(prefix="tg-month-"))
    if seed_dir is None:
        await _seeded_month(directory)
    sizes = {path.name: path.stat().st_size for path in directory.iterdir()}
    # The same process on an empty store, in the same run: what starting Python costs here.
    empty = await _timed_start({"TRADEGRAPH_DATA_DIR": ""})
    month = await _timed_start({"TRADEGRAPH_DATA_DIR": str(directory)})
    files = ", ".join(f"{name} {size / 1e6:.0f} MB" for name, size in sizes.items())
    print(f"\nrestart on {directory}: {files}", flush=True)
    print("| seconds from process start to | empty store | seeded month |")
    print("|---|---:|---:|")
    for name in ("listening", "healthz", "graphql", "readyz", "shutdown"):
        print(f"| {name} | {empty[name]:.1f} | {month[name]:.1f} |")
    print(f"| RSS once ready (MB) | {empty['rss_mb']:.0f} | {month['rss_mb']:.0f} |")
    if seed_dir is None:
        shutil.rmtree(directory)


async def _store_writes(journaled: bool, directory: Path, count: int) -> float:
    """Writes/s straight on the emulated store (an insert and an update per step)."""
    from tradegraph.store import emulation_journal
    from tradegraph.store.emulation import emulated_client
    from tradegraph.store.emulation_thread import run_in_store_thread
    from tradegraph.store.journal import JournalWriter

    client = emulated_client()
    database = client[f"bench_{uuid.uuid4().hex[:8]}"]
    journal = None
    if journaled:
        journal = JournalWriter(directory, database.name, 0, 100)
        await run_in_store_thread(emulation_journal.attach, database.delegate._store, journal)
        syncer = asyncio.create_task(journal.sync_periodically())
    collection = database["orders"]
    started = time.perf_counter()
    for number in range(count):
        inserted = await collection.insert_one({"n": number, "status": "NEW", "qty": 10})
        await collection.update_one(
            {"_id": inserted.inserted_id}, {"$set": {"status": "FILLED"}, "$inc": {"qty": -1}}
        )
    rate = 2 * count / (time.perf_counter() - started)
    if journal is not None:
        syncer.cancel()
        journal.close()
    return rate


async def store_journal_cost(count: int) -> None:
    rates: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(3):  # alternated
            for journaled in (False, True):
                rates[journaled].append(await _store_writes(journaled, Path(directory), count))
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"\nstore calls/s straight on the emulation ({count:,} inserts + {count:,} updates)")
    print(f"  without journal: {' / '.join(f'{r:,.0f}' for r in rates[False])} (median {off:,.0f})")
    print(f"  with journal:    {' / '.join(f'{r:,.0f}' for r in rates[True])} (median {on:,.0f})")
    print(f"  ratio {on / off:.2f}")


async def main(clients: int, seconds: float, seed_dir: str | None) -> None:
    await store_journal_cost(5_000)
    await journal_cost(clients, seconds)
    await seeded_restart(seed_dir)
