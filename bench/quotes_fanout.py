"""Quote fan-out: N WebSocket subscribers on `quotes`, ticks published at a fixed rate.

Subject: a tradegraph server process (emulated store, memory broker, MARKET_FEED=none,
permessage-deflate off as by default); ticks go in through publishQuote, so tick-to-client
latency covers the whole quote path (validate, store the tick and the last quote, publish,
match, one GraphQL execution shared by the subscribers of the same document, WebSocket sends).
Baseline, same run: a bare `websockets` broadcast server process (bench/bare_broadcast.py).
Each count runs tradegraph twice, in fresh processes: subscribers that log in (an access
token), then subscribers that connect as /widgets.js does (a widget socket from a page's
origin with a widget key; issue 26).
Each tick carries its send time; clients measure latency on arrival. Memory per connection is
the server's resident-set growth while the subscribers connect, divided by their number.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import websockets
from tqdm import tqdm
from websockets.typing import Origin, Subprotocol

from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import GraphQLClient, wait_for_subscribers
from tests.support.servers import Process, start_tradegraph
from tests.support.trading import CREATE_INSTRUMENT, PETR4, PUBLISH_QUOTE

SUBSCRIBE = 'subscription { quotes(symbols: ["PETR4"]) { symbol bid ask timestamp } }'
WIDGET_ORIGIN = "https://widgets.bench.example"
CREATE_WIDGET_KEY = """mutation($input: CreateWidgetKeyInput!) {
  createWidgetKey(input: $input) { id key }
}"""
REVOKE_WIDGET_KEY = "mutation($id: ID!) { revokeWidgetKey(id: $id) { id } }"
CONNECT_BATCH = 100


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    last_arrival: float = 0.0
    since: float = field(default_factory=time.time)  # ticks of this run are sent after it
    replayed: int = 0  # the latest quote a `quotes` subscription starts with, from a past run
    closed: list[tuple[float, int]] = field(default_factory=list)  # by the server: when, code


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _arrived(tally: Tally, sent_at: str) -> None:
    now = time.time()
    sent = datetime.fromisoformat(sent_at).timestamp()
    if sent < tally.since:
        tally.replayed += 1
        return
    tally.latencies.append(now - sent)
    tally.last_arrival = now


@dataclass(frozen=True)
class Credential:
    """How a subscriber connects: with an access token, or as a widget (key, page origin)."""

    token: str | None = None
    widget_key: str | None = None

    def url(self, graphql_ws: str) -> str:
        return graphql_ws + "?widget" if self.widget_key else graphql_ws

    def init(self) -> dict[str, str]:
        if self.widget_key:
            return {"widgetKey": self.widget_key}
        return {"Authorization": f"Bearer {self.token}"}


async def _graphql_subscriber(
    url: str, credential: Credential, tally: Tally, ready: asyncio.Event
) -> None:
    async with websockets.connect(
        credential.url(url),
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_queue=None,
        ping_interval=None,
        origin=Origin(WIDGET_ORIGIN) if credential.widget_key else None,
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": credential.init()}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )
        ready.set()
        try:
            async for raw in socket:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    _arrived(tally, message["payload"]["data"]["quotes"]["timestamp"])
        except websockets.ConnectionClosed as closed:  # e.g. 4403 when its widget key is revoked
            tally.closed.append((time.time(), closed.rcvd.code if closed.rcvd else 1006))


async def _bare_subscriber(url: str, tally: Tally, ready: asyncio.Event) -> None:
    async with websockets.connect(url, max_queue=None, ping_interval=None) as socket:
        ready.set()
        async for raw in socket:
            _arrived(tally, json.loads(raw)["timestamp"])


async def _connect(
    count: int, start: Callable[[asyncio.Event], Awaitable[None]], label: str
) -> list[asyncio.Task[None]]:
    tasks = []
    with tqdm(
        total=count, desc=f"{label}: connecting", unit="conn", file=sys.stderr, leave=False
    ) as bar:
        for offset in range(0, count, CONNECT_BATCH):
            events = [asyncio.Event() for _ in range(min(CONNECT_BATCH, count - offset))]
            tasks += [asyncio.create_task(start(event)) for event in events]
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 120)
            bar.update(len(events))
    return tasks


def _tick(n: int) -> dict[str, str]:
    bid = 10 + (n % 50) / 100
    return {
        "symbol": "PETR4",
        "bid": f"{bid:.2f}",
        "ask": f"{bid + 0.01:.2f}",
        "timestamp": datetime.now(UTC).isoformat(),
    }


class HealthProbe:
    """bench/health_probe.py in its own process, probing the server during the ticks."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        if self.url is None:
            return
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.health_probe",
            self.url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert (await self.process.stdout.readline()).strip() == b"ready"

    async def latencies_ms(self) -> list[float]:
        if self.process is None:
            return []
        stdout, _ = await self.process.communicate(b"")
        return list(json.loads(stdout.decode().splitlines()[-1]))


async def _run(
    label: str,
    pid: int,
    subscribers: int,
    rate: float,
    seconds: float,
    start: Callable[[asyncio.Event, Tally], Awaitable[None]],
    settle: Callable[[], Awaitable[None]],
    publish: Callable[[dict[str, str]], Awaitable[None]],
    health_url: str | None = None,
    revoke: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, float]:
    tally = Tally()
    before = rss_kib(pid)
    tasks = await _connect(subscribers, lambda ready: start(ready, tally), label)
    await settle()
    per_connection = (rss_kib(pid) - before) / subscribers
    ticks = int(rate * seconds)
    expected = ticks * subscribers
    probe = HealthProbe(health_url)
    await probe.start()
    first_sent = time.time()
    cpu_before = cpu_seconds(pid)
    for n in tqdm(range(ticks), desc=f"{label}: ticks", unit="tick", file=sys.stderr, leave=False):
        await publish(_tick(n))
        await asyncio.sleep(max(0.0, first_sent + (n + 1) / rate - time.time()))  # the rate
    deadline = time.time() + 30
    while len(tally.latencies) < expected and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # clients count arrivals; poll until all came in or timeout
    cpu = cpu_seconds(pid) - cpu_before
    health = sorted(await probe.latencies_ms())
    revocation = await _revocation(revoke, tasks, tally) if revoke else {}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(tally.latencies)
    elapsed = max(tally.last_arrival - first_sent, 1e-9)
    return {
        "subscribers": subscribers,
        "delivered": len(latencies) / expected,
        "msgs_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[max(0, int(len(latencies) * 0.99) - 1)]
        if latencies
        else float("nan"),
        "kib_per_conn": per_connection,
        "replayed": tally.replayed,
        # the server's own CPU per delivered frame: unlike msgs/s, not skewed by the clients
        # competing for the same cores
        "cpu_us_per_msg": 1e6 * cpu / max(len(latencies), 1),
        # /healthz from another process while the ticks fan out: does delivery hold the loop?
        "health_p99_ms": health[max(0, int(len(health) * 0.99) - 1)] if health else float("nan"),
        "health_worst_ms": health[-1] if health else float("nan"),
        **revocation,
    }


async def _revocation(
    revoke: Callable[[], Awaitable[None]], tasks: list[asyncio.Task[None]], tally: Tally
) -> dict[str, float]:
    """Revokes the subscribers' widget key: how long until the server has closed all of their
    sockets (from sending revokeWidgetKey), and the share it closed with 4403."""
    sent = time.time()
    await revoke()
    await asyncio.wait(tasks, timeout=30)
    forbidden = [when for when, code in tally.closed if code == 4403]
    return {
        "revoke_all_closed_ms": 1000 * (max(forbidden) - sent) if forbidden else float("nan"),
        "revoke_closed_share": len(forbidden) / len(tasks),
    }


async def _bare_server() -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bare_broadcast", stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    return process, f"ws://127.0.0.1:{line.split()[1]}"


def raise_open_file_limit() -> int:
    """Every subscriber is a socket here and one in a server (children inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def main(counts: list[int], rate: float, seconds: float) -> None:
    limit = raise_open_file_limit()
    if max(counts) + 100 > limit:
        raise SystemExit(f"{max(counts)} subscribers need more open files than the limit {limit}")
    rows: list[Row] = []
    for count in counts:
        # Fresh server processes for every run: memory per connection is then the growth of
        # a process that has not already grown (and freed) for a previous run.
        rows.append(await _compare(count, rate, seconds))
        _report(rows[-1:], rate, seconds)  # kept if a later run fails
    print("\nall runs:")
    _report(rows, rate, seconds)


Row = tuple[dict[str, float], dict[str, float], dict[str, float]]  # bare, token, widget key


async def _compare(count: int, rate: float, seconds: float) -> Row:
    """The relay, then tradegraph with logged-in subscribers, then with widget-key ones."""
    bare, bare_url = await _bare_server()
    try:
        async with websockets.connect(bare_url + "/publish") as publisher:

            async def bare_publish(tick: dict[str, str]) -> None:
                await publisher.send(json.dumps(tick))

            async def no_wait() -> None:
                return None

            baseline = await _run(
                "bare websockets",
                bare.pid,
                count,
                rate,
                seconds,
                lambda ready, tally: _bare_subscriber(bare_url, tally, ready),
                no_wait,
                bare_publish,
            )
    finally:
        bare.terminate()
        await bare.wait()
    subject = await _tradegraph_run(count, rate, seconds, widget=False)
    widget = await _tradegraph_run(count, rate, seconds, widget=True)
    return baseline, subject, widget


async def _tradegraph_run(
    count: int, rate: float, seconds: float, widget: bool
) -> dict[str, float]:
    """A fresh tradegraph process; `count` subscribers that log in, or that use a widget key."""
    server: Process = await start_tradegraph(
        {
            "TRADEGRAPH_MARKET_FEED": "none",
            # One account (or key) holds every benchmark socket: the limits would refuse them.
            "TRADEGRAPH_MAX_CONNECTIONS_PER_USER": str(count + 10),
            "TRADEGRAPH_MAX_SUBSCRIPTIONS_PER_USER": str(count + 10),
            "TRADEGRAPH_WIDGET_KEY_MAX_CONNECTIONS": str(count + 10),
            "TRADEGRAPH_WIDGET_KEY_MAX_SUBSCRIPTIONS": str(count + 10),
            **ADMIN_ENV,
            "TRADEGRAPH_MONGODB_DATABASE": f"tradegraph_bench_{uuid.uuid4().hex[:8]}",
        }
    )
    try:
        # uvicorn drops keep-alive connections idle for 5 s; never reuse one idle for 1 s, or a
        # request after a long connect phase may meet a connection the server just closed.
        keepalive = httpx.Limits(keepalive_expiry=1.0)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=keepalive) as http:
            gql = GraphQLClient(http)
            token = await login_admin(gql)
            await gql.data(CREATE_INSTRUMENT, {"input": PETR4}, token)
            credential = Credential(token=token)
            revoke = None
            if widget:
                key_input = {"name": "bench", "origins": [WIDGET_ORIGIN]}
                created = (await gql.data(CREATE_WIDGET_KEY, {"input": key_input}, token))[
                    "createWidgetKey"
                ]
                credential = Credential(widget_key=created["key"])

                async def revoke() -> None:
                    await gql.data(REVOKE_WIDGET_KEY, {"id": created["id"]}, token)

            ws_url = server.url.replace("http", "ws", 1) + "/graphql"

            async def graphql_publish(tick: dict[str, str]) -> None:
                await gql.data(PUBLISH_QUOTE, {"input": tick}, token)

            return await _run(
                "tradegraph widget key" if widget else "tradegraph",
                server.process.pid,
                count,
                rate,
                seconds,
                lambda ready, tally: _graphql_subscriber(ws_url, credential, tally, ready),
                lambda: wait_for_subscribers(http, "tradegraph.quotes.PETR4", count, timeout=120),
                graphql_publish,
                health_url=server.url,
                revoke=revoke,
            )
    finally:
        await server.stop()


def _report(rows: list[Row], rate: float, seconds: float) -> None:
    print(f"\nquote fan-out: {rate:g} ticks/s for {seconds:g}s per run")
    print(
        f"{'subscribers':>11} {'server':<22}{'delivered':>10}{'msgs/s':>10}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'KiB/conn':>10}{'CPU µs/msg':>12}"
    )
    for baseline, subject, widget in rows:
        named = (
            ("bare websockets", baseline),
            ("tradegraph", subject),
            ("tradegraph widget key", widget),
        )
        for name, row in named:
            print(
                f"{row['subscribers']:>11} {name:<22}{row['delivered']:>10.1%}"
                f"{row['msgs_per_s']:>10.0f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
                f"{row['kib_per_conn']:>10.1f}{row['cpu_us_per_msg']:>12.1f}"
            )
        for name, row in (("tradegraph", subject), ("widget key", widget)):
            print(
                f"{'':>11} ratio {name}/bare: msgs/s "
                f"{row['msgs_per_s'] / baseline['msgs_per_s']:.2f}, p99 "
                f"{row['p99_ms'] / baseline['p99_ms']:.1f}x, memory "
                f"{row['kib_per_conn'] / max(baseline['kib_per_conn'], 0.1):.1f}x, server CPU "
                f"per msg {row['cpu_us_per_msg'] / max(baseline['cpu_us_per_msg'], 0.1):.1f}x; "
                f"/healthz during the ticks p99 {row['health_p99_ms']:.0f} ms, worst "
                f"{row['health_worst_ms']:.0f} ms"
            )
        print(
            f"{'':>11} revokeWidgetKey: {widget['revoke_closed_share']:.0%} of the "
            f"{widget['subscribers']:.0f} widget sockets closed 4403, the last "
            f"{widget['revoke_all_closed_ms']:.0f} ms after the request was sent (a tick's p99 "
            f"to all of them in the same run: {widget['p99_ms']:.0f} ms)"
        )
