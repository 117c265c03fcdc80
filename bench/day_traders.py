"""The load generator of `python -m bench day`: simulated traders in one client process.

Run by bench/day.py as `python -m bench.day_traders '<json config>'`. It talks JSON lines:
stdout gets {"progress": ...}, {"ready": ...} once every trader is set up, subscribed and has
received the replay of its set-up orders, and
{"result": ...} at the end; stdin gets "go" (start trading) and "stop". Latencies are kept as
histograms of 0.1 ms bins, so a 10-minute run of 1,000 traders stays a few kilobytes.

Each trader, like the dashboard: one socket with `quotes` (its 12-symbol watchlist),
`portfolioValue`, `orderEvents(after:)` and `candles` of one symbol; a funded portfolio holding
3-8 symbols; a placeOrder every 30-90 s (MARKET and LIMIT, LIMITs a little off the mid so some
rest and fill later), now and then a cancelOrder or replaceOrder of a resting order, and an
`orders(first: 20)` and a `portfolio` query after each of its own fills. Like a dashboard, it
refetches for live fills only (the replay of its history on connect is what it already showed)
and coalesces: fills arriving while a refetch runs cause one more refetch, not one each.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

import httpx
import websockets

from bench.day_orders import Ledger
from bench.day_plan import TraderPlan, plan_traders

REGISTER = """mutation($email: String!, $password: String!) {
  register(input: {email: $email, password: $password}) { accessToken } }"""
CREATE_PORTFOLIO = """mutation($name: String!, $currency: String!) {
  createPortfolio(input: {name: $name, baseCurrency: $currency}) { id } }"""
DEPOSIT = """mutation($id: ID!, $amount: Decimal!) { deposit(portfolioId: $id, amount: $amount) {
  id } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }"""
CANCEL = """mutation($id: ID!) { cancelOrder(id: $id) { id status } }"""
REPLACE = """mutation($id: ID!, $input: ReplaceOrderInput!) {
  replaceOrder(id: $id, input: $input) { id status } }"""
ORDERS = """query($id: ID!, $first: Int!) { orders(portfolioId: $id, first: $first) {
  totalCount edges { node { id status filledQuantity } } } }"""
PORTFOLIO = """query($id: ID!) { portfolio(id: $id) { cash equity dayPnl
  positions { symbol quantity marketPrice } } }"""
QUOTES = """subscription($symbols: [String!]!) { quotes(symbols: $symbols) {
  symbol bid ask mid changePercent timestamp } }"""
VALUE = """subscription($id: ID!) { portfolioValue(portfolioId: $id) {
  cash equity unrealizedPnl dayPnl timestamp } }"""
EVENTS = """subscription($id: ID!, $after: String) { orderEvents(portfolioId: $id, after: $after) {
  cursor kind timestamp order { id status filledQuantity } fill { quantity price timestamp } } }"""
CANDLES = """subscription($symbol: String!) { candles(symbol: $symbol, interval: ONE_MINUTE) {
  start open high low close volume } }"""
TICK = Decimal("0.01")
REPLAY_SECONDS = 120.0
FINAL = ("FILLED", "REJECTED", "CANCELED", "EXPIRED")  # set-up orders are MARKET buys
EQUITY_TOLERANCE = 0.0051  # equity is sent at cent precision


class Histogram(Counter[int]):
    """Latencies in 0.1 ms bins."""

    def add(self, seconds: float) -> None:
        self[max(0, int(seconds * 10_000))] += 1


def now_of(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class Trader:
    def __init__(self, plan: TraderPlan, http: httpx.AsyncClient, ws_url: str, stats: Stats):
        self.plan = plan
        self.http = http
        self.ws_url = ws_url
        self.stats = stats
        self.token = ""
        self.portfolio_id = ""
        self.rng = random.Random(plan.seed)
        self.ledger = Ledger()
        self.mids: dict[str, float] = {}
        self.cash = 0.0
        self.held: dict[str, float] = {}  # quantities from the last `portfolio` query
        self.pending: dict[str, list[float]] = {}  # held ticks no value has included yet
        self.measuring = False
        self.subscribed = asyncio.Event()
        self.replayed = asyncio.Event()  # every set-up order's events arrived on the socket
        self.refetching = False
        self.refetch_again = False
        self.socket: Any = None
        self.tasks: set[asyncio.Future[None]] = set()

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"{query.split('(')[0]}: {body['errors'][0].get('message')}")
        return dict(body["data"])

    async def set_up(self) -> None:
        """Registers, funds a portfolio and buys the holdings (MARKET orders)."""
        email = f"{self.plan.name}@bench.example.com"
        data = await self.gql(REGISTER, {"email": email, "password": "bench-password-42x"})
        self.token = data["register"]["accessToken"]
        created = await self.gql(CREATE_PORTFOLIO, {"name": "Day", "currency": self.plan.currency})
        self.portfolio_id = created["createPortfolio"]["id"]
        await self.gql(DEPOSIT, {"id": self.portfolio_id, "amount": "10000000"})
        for symbol in self.plan.holdings:
            await self.place(symbol, "BUY", "MARKET", Decimal(self.rng.randint(10, 200)))
        await self.refresh_portfolio()

    async def place(
        self, symbol: str, side: str, kind: str, quantity: Decimal, limit: Decimal | None = None
    ) -> None:
        order: dict[str, Any] = {
            "portfolioId": self.portfolio_id,
            "symbol": symbol,
            "side": side,
            "type": kind,
            "quantity": str(quantity),
        }
        if limit is not None:
            order["limitPrice"] = str(limit)
        started = time.perf_counter()
        placed = (await self.gql(PLACE, {"input": order}))["placeOrder"]
        if self.measuring:
            self.stats.ack.add(time.perf_counter() - started)
        self.ledger.placed(placed["id"], limit is not None)

    async def refresh_portfolio(self) -> None:
        data = (await self.gql(PORTFOLIO, {"id": self.portfolio_id}))["portfolio"]
        self.cash = float(data["cash"])
        self.held = {p["symbol"]: float(p["quantity"]) for p in data["positions"]}

    async def run_socket(self) -> None:
        async with websockets.connect(
            self.ws_url,
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            max_queue=None,
            ping_interval=None,
            compression=None,
        ) as socket:
            self.socket = socket
            auth = {"Authorization": f"Bearer {self.token}"}
            await socket.send(json.dumps({"type": "connection_init", "payload": auth}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            for op, query, variables in (
                ("q", QUOTES, {"symbols": self.plan.watchlist}),
                ("v", VALUE, {"id": self.portfolio_id}),
                ("e", EVENTS, {"id": self.portfolio_id, "after": "0"}),
                ("c", CANDLES, {"symbol": self.plan.chart}),
            ):
                payload = {"query": query, "variables": variables}
                await socket.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            self.subscribed.set()
            self.check_replayed()
            async for raw in socket:
                self.on_frame(raw if isinstance(raw, str) else raw.decode())

    def on_frame(self, raw: str) -> None:
        arrived = time.time()
        message = json.loads(raw)
        kind = message["type"]
        if kind == "ping":
            self.background(self.socket.send('{"type":"pong"}'))
            return
        if kind != "next":
            self.stats.problems.append(f"{self.plan.name}: {raw[:300]}")
            return
        op = message["id"]
        data = message["payload"].get("data") or {}
        if op == "q":
            self.on_quote(data["quotes"], arrived)
        elif op == "v":
            self.on_value(data["portfolioValue"], arrived)
        elif op == "e":
            self.on_event(data["orderEvents"], arrived)
        elif op == "c":
            self.stats.candles += 1

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self.tasks.discard)

    def on_quote(self, quote: dict[str, Any], arrived: float) -> None:
        symbol = quote["symbol"]
        tick = now_of(quote["timestamp"])
        self.mids[symbol] = (float(quote["bid"]) + float(quote["ask"])) / 2
        if not self.measuring or tick < self.stats.started:
            return  # the latest quote a subscription starts with, from before the run
        self.stats.quotes.add(arrived - tick)
        if symbol in self.held:
            self.pending.setdefault(symbol, []).append(tick)

    def on_value(self, value: dict[str, Any], arrived: float) -> None:
        self.stats.values += 1
        expected = self.cash + sum(q * self.mids.get(s, 0.0) for s, q in self.held.items())
        if abs(float(value["equity"]) - expected) > EQUITY_TOLERANCE + 1e-9 * abs(expected):
            return  # not (yet) the prices and holdings this client knows of: wait for the next
        for ticks in self.pending.values():
            for tick in ticks:
                self.stats.staleness.add(arrived - tick)
        self.pending.clear()

    def on_event(self, event: dict[str, Any], arrived: float) -> None:
        problem = self.ledger.event(event)
        if problem:
            self.stats.problems.append(f"{self.plan.name}: {problem}")
        replaying = not self.replayed.is_set()
        if replaying:
            self.check_replayed()
        if event["fill"] is None or replaying:
            return
        if self.measuring and now_of(event["fill"]["timestamp"]) >= self.stats.started:
            self.stats.fill_delivery.add(arrived - now_of(event["fill"]["timestamp"]))
        self.stats.fills += 1
        if self.refetching:
            self.refetch_again = True  # one more refetch after this one, not one per fill
        else:
            self.background(self.after_fill())

    async def await_replay(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.replayed.wait(), seconds)
        except TimeoutError:  # a lost event: counted, and the run goes on
            self.stats.problems.append(f"{self.plan.name}: replay incomplete after {seconds} s")
            self.replayed.set()

    def check_replayed(self) -> None:
        """Set `replayed` once every order placed so far has a final status from its events."""
        if all(seen.status in FINAL for seen in self.ledger.orders.values()):
            self.replayed.set()

    async def after_fill(self) -> None:
        self.refetching = True
        try:
            while True:
                self.refetch_again = False
                await self.gql(ORDERS, {"id": self.portfolio_id, "first": 20})
                await self.refresh_portfolio()
                if not self.refetch_again:
                    break
        except Exception as error:  # reported, the run goes on
            self.stats.errors.append(f"{self.plan.name}: after fill: {error!r}")
        finally:
            self.refetching = False

    async def trade(self, stop: asyncio.Event, every: tuple[float, float]) -> None:
        first = self.rng.uniform(0, every[1])  # spread over the first period
        pause = first
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), pause)
                return
            except TimeoutError:
                pass
            try:
                await self.act()
            except Exception as error:
                self.stats.errors.append(f"{self.plan.name}: {error!r}")
            pause = self.rng.uniform(*every)

    async def act(self) -> None:
        resting = self.ledger.resting()
        if resting and self.rng.random() < 0.2:
            order_id = self.rng.choice(resting)
            try:
                if self.rng.random() < 0.5:
                    await self.gql(CANCEL, {"id": order_id})
                else:
                    changed = await self.gql(REPLACE, {"id": order_id, "input": {"quantity": "2"}})
                    self.ledger.placed(changed["replaceOrder"]["id"], limit=True)
                self.stats.amends += 1
            except RuntimeError:  # it filled meanwhile: a refusal the trader expects
                self.stats.amends_refused += 1
            return
        symbol = self.rng.choice(self.plan.holdings)
        mid = Decimal(str(self.mids.get(symbol, 0))) or None
        side = "SELL" if self.held.get(symbol, 0) > 20 and self.rng.random() < 0.4 else "BUY"
        quantity = Decimal(self.rng.randint(1, 5))
        if mid is None or self.rng.random() < 0.5:
            await self.place(symbol, side, "MARKET", quantity)
        else:
            off = Decimal(str(self.rng.uniform(0, 0.0008)))
            if side == "BUY":
                limit = (mid * (1 - off)).quantize(TICK, ROUND_DOWN)
            else:
                limit = (mid * (1 + off)).quantize(TICK, ROUND_UP)
            await self.place(symbol, side, "LIMIT", quantity, limit)
        self.stats.orders += 1

    async def final_check(self, deadline: float) -> None:
        """Each order's stored state against the events this socket received, once they
        agree or at `deadline` (a loaded server may still be delivering)."""
        while True:
            data = (await self.gql(ORDERS, {"id": self.portfolio_id, "first": 500}))["orders"]
            problems = self.ledger.compare([e["node"] for e in data["edges"]])
            if not problems or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        self.stats.problems += [f"{self.plan.name}: {problem}" for problem in problems]
        self.stats.unmatched_ticks += sum(len(t) for t in self.pending.values())


class Stats:
    def __init__(self) -> None:
        self.started = float("inf")
        self.ack = Histogram()
        self.quotes = Histogram()
        self.staleness = Histogram()
        self.fill_delivery = Histogram()
        self.problems: list[str] = []  # the order events' stream: lost, duplicated, disorder
        self.errors: list[str] = []  # requests that failed (timeouts under load)
        self.orders = self.amends = self.amends_refused = self.fills = self.values = (
            self.candles
        ) = 0
        self.unmatched_ticks = 0

    def summary(self) -> dict[str, Any]:
        return {
            "ack": self.ack,
            "quotes": self.quotes,
            "staleness": self.staleness,
            "fill_delivery": self.fill_delivery,
            "problems": self.problems[:50],
            "problem_count": len(self.problems),
            "errors": self.errors[:20],
            "error_count": len(self.errors),
            "orders": self.orders,
            "amends": self.amends,
            "amends_refused": self.amends_refused,
            "fills": self.fills,
            "values": self.values,
            "candles": self.candles,
            "unmatched_ticks": self.unmatched_ticks,
        }


def say(kind: str, value: object) -> None:
    sys.stdout.write(json.dumps({kind: value}) + "\n")
    sys.stdout.flush()


async def stdin_lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def run(config: dict[str, Any]) -> None:
    commands = await stdin_lines()
    stats = Stats()
    limits = httpx.Limits(max_connections=64, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=config["url"], timeout=120, limits=limits) as http:
        ws_url = config["url"].replace("http", "ws", 1) + "/graphql"
        plans = plan_traders(config["first"], config["count"], config["run"], config["watchlists"])
        traders = [Trader(plan, http, ws_url, stats) for plan in plans]
        setup = asyncio.Semaphore(config["setup_concurrency"])

        async def set_up(trader: Trader) -> None:
            async with setup:
                await trader.set_up()

        done = 0
        for batch in range(0, len(traders), 50):
            await asyncio.gather(*(set_up(t) for t in traders[batch : batch + 50]))
            done += len(traders[batch : batch + 50])
            say("progress", {"set_up": done})
        sockets = []
        for batch in range(0, len(traders), 50):
            for trader in traders[batch : batch + 50]:
                sockets.append(asyncio.create_task(trader.run_socket()))
            batch_traders = traders[batch : batch + 50]
            await asyncio.gather(*(t.subscribed.wait() for t in batch_traders))
            await asyncio.gather(*(t.await_replay(REPLAY_SECONDS) for t in batch_traders))
            say("progress", {"connected": batch + len(traders[batch : batch + 50])})
        say("ready", len(traders))
        assert (await commands.readline()).strip() == b"go"
        stats.started = time.time()
        for trader in traders:
            trader.measuring = True
        stop = asyncio.Event()
        every = (config["every_min"], config["every_max"])
        trading = [asyncio.create_task(t.trade(stop, every)) for t in traders]
        reporter = asyncio.create_task(report_progress(stats))
        assert (await commands.readline()).strip() == b"stop"
        stop.set()
        await asyncio.gather(*trading)
        reporter.cancel()
        deadline = time.monotonic() + config["drain_seconds"]
        await asyncio.gather(*(trader.final_check(deadline) for trader in traders))
        for task in sockets:
            task.cancel()
        await asyncio.gather(*sockets, return_exceptions=True)
    say("result", stats.summary())


async def report_progress(stats: Stats) -> None:
    while True:
        await asyncio.sleep(5)
        say(
            "progress",
            {
                "orders": stats.orders,
                "fills": stats.fills,
                "values": stats.values,
                "quotes": sum(stats.quotes.values()),
                "problems": len(stats.problems),
            },
        )


async def relay(config: dict[str, Any]) -> None:
    """The baseline: `count` sockets on the bare relay (bench/bare_broadcast.py), each message
    a frame shaped like a `quotes` one, its latency measured from the tick time it carries."""
    commands = await stdin_lines()
    stats = Stats()
    ready = [asyncio.Event() for _ in range(config["count"])]

    async def listen(connected: asyncio.Event) -> None:
        async with websockets.connect(
            config["relay_url"], max_queue=None, ping_interval=None, compression=None
        ) as socket:
            connected.set()
            async for raw in socket:
                arrived = time.time()
                quote = json.loads(raw)["payload"]["data"]["quotes"]
                if stats.started <= now_of(quote["timestamp"]):
                    stats.quotes.add(arrived - now_of(quote["timestamp"]))

    tasks = []
    for batch in range(0, len(ready), 100):
        tasks += [asyncio.create_task(listen(e)) for e in ready[batch : batch + 100]]
        await asyncio.gather(*(e.wait() for e in ready[batch : batch + 100]))
    say("ready", len(ready))
    assert (await commands.readline()).strip() == b"go"
    stats.started = time.time()
    assert (await commands.readline()).strip() == b"stop"
    await asyncio.sleep(config["drain_seconds"])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    say("result", stats.summary())


if __name__ == "__main__":
    settings = json.loads(sys.argv[1])
    asyncio.run(relay(settings) if settings.get("relay_url") else run(settings))
