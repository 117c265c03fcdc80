"""The world `python -m bench fairness` acts on: a `tradegraph serve` subprocess (default
embedded store) seeded with events, a victim and an attacker, and optionally a finished
optimisation; plus the socket and loop helpers the attacks share."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

from tests.e2e.conftest import ADMIN_ENV, REGISTER, login_admin
from tests.e2e.test_analytics import IMPORT, START, walk
from tests.support.clients import WEBHOOK_SECRET, GraphQLClient, send_webhook
from tests.support.servers import Process, start_tradegraph
from tests.support.trading import (
    CREATE_INSTRUMENT,
    CREATE_PORTFOLIO,
    DEPOSIT,
    PETR4,
    PLACE_ORDER,
    PUBLISH_QUOTE,
)

PASSWORD = "fairness-password"
INGEST = """mutation($input: EventInput!) { ingestEvent(input: $input) { cursor } }"""
OPTIMIZE = """mutation($input: OptimizeInput!) { optimizeBacktest(input: $input) { id } }"""
STATUS = "query($id: ID!) { optimization(id: $id) { status } }"


@dataclass
class World:
    """What the attacks and the victim act on."""

    server: Process
    admin: str
    victim: str
    victim_portfolio: str
    attacker: str
    attacker_email: str
    attacker_cursor: str
    attacker_portfolio: str
    optimization: str | None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.server.url.replace("http", "ws", 1) + "/graphql"


async def _register(gql: GraphQLClient, email: str) -> dict[str, Any]:
    data = await gql.data(REGISTER, {"email": email, "password": PASSWORD})
    return dict(data["register"])


async def _portfolio(gql: GraphQLClient, token: str, cash: str) -> str:
    created = await gql.data(CREATE_PORTFOLIO, {"name": "main", "currency": "BRL"}, token)
    pid = str(created["createPortfolio"]["id"])
    await gql.data(DEPOSIT, {"id": pid, "amount": cash}, token)
    return pid


async def _seed_events(http: httpx.AsyncClient, count: int, user_id: str) -> None:
    """`count` events of `user_id` over the last hour, by signed webhook."""
    now = datetime.now(UTC)
    for number, start in enumerate(range(0, count, 1000)):
        batch = [
            {
                "userId": user_id,
                "type": "purchase",
                "value": i % 97,
                "timestamp": (now - timedelta(seconds=i % 3600)).isoformat(),
            }
            for i in range(start, min(count, start + 1000))
        ]
        response = await send_webhook(http, batch, f"fairness-{number}")
        assert response.status_code == 200, response.text


async def _optimization(gql: GraphQLClient, admin: str, token: str, rows: int) -> str:
    """A finished optimisation of about `rows` combinations on 300 one-minute bars."""
    opens, closes = walk(300)
    candles = [
        {
            "start": (START + timedelta(minutes=i)).isoformat(),
            "open": str(o),
            "high": str(max(o, c)),
            "low": str(min(o, c)),
            "close": str(c),
        }
        for i, (o, c) in enumerate(zip(opens, closes, strict=True))
    ]
    await gql.data(IMPORT, {"candles": candles}, admin)
    side = max(2, int(rows**0.5))
    grid = [
        {"name": "fast", "start": 1, "stop": side, "step": 1},
        {"name": "slow", "start": 200, "stop": 200 + side - 1, "step": 1},
    ]
    request = {
        "symbol": "PETR4",
        "interval": "ONE_MINUTE",
        "from": START.isoformat(),
        "to": (START + timedelta(minutes=300)).isoformat(),
        "initialCash": "10000",
        "kind": "SMA_CROSSOVER",
        "parameters": grid,
        "maximize": "TOTAL_RETURN",
    }
    started = await gql.data(OPTIMIZE, {"input": request}, token)
    optimization = str(started["optimizeBacktest"]["id"])
    async with asyncio.timeout(900):
        while True:
            found = await gql.data(STATUS, {"id": optimization}, token)
            if found["optimization"]["status"] in ("COMPLETED", "FAILED"):
                break
            await asyncio.sleep(1)
    return optimization


async def setup(events: int, heatmap_rows: int) -> World:
    server = await start_tradegraph(
        {
            **ADMIN_ENV,
            "TRADEGRAPH_MARKET_FEED": "none",
            "TRADEGRAPH_ACCESS_TOKEN_TTL_SECONDS": "86400",  # a run outlasts the default 15 min
            "TRADEGRAPH_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TRADEGRAPH_MONGODB_DATABASE": f"fairness_{uuid.uuid4().hex[:8]}",
        }
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await gql.data(CREATE_INSTRUMENT, {"input": PETR4}, admin)
            await gql.data(
                PUBLISH_QUOTE, {"input": {"symbol": "PETR4", "bid": "10", "ask": "10.02"}}, admin
            )
            victim = await _register(gql, "victim@example.com")
            victim_portfolio = await _portfolio(gql, victim["accessToken"], "100000")
            for price in ("5.00", "5.10", "5.20", "5.30", "5.40"):
                order = {
                    "portfolioId": victim_portfolio,
                    "symbol": "PETR4",
                    "side": "BUY",
                    "type": "LIMIT",
                    "quantity": "1",
                    "limitPrice": price,
                    "timeInForce": "GTC",
                }
                await gql.data(PLACE_ORDER, {"input": order}, victim["accessToken"])
            email = "attacker@example.com"
            attacker = await _register(gql, email)
            attacker_portfolio = await _portfolio(gql, attacker["accessToken"], "1000")
            # The attacker's own events: its eventSummary (the long store call) aggregates them
            # all as a TRADER, and it shares no identity with the victim (another user) or
            # with the admin that publishes the victim's quotes.
            await _seed_events(http, events, attacker["user"]["id"])
            own = {"userId": attacker["user"]["id"], "type": "login", "value": 1}
            cursor = (await gql.data(INGEST, {"input": own}, admin))["ingestEvent"]["cursor"]
            optimization = None
            if heatmap_rows:
                optimization = await _optimization(
                    gql, admin, attacker["accessToken"], heatmap_rows
                )
    except BaseException:
        await server.stop()  # a failed setup leaves no server behind
        raise
    return World(
        server,
        admin,
        victim["accessToken"],
        victim_portfolio,
        attacker["accessToken"],
        email,
        cursor,
        attacker_portfolio,
        optimization,
    )


async def open_socket(url: str, token: str | None, payload: str | None = None) -> Any:
    socket = await websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], max_size=None, ping_interval=None
    )
    init = payload or json.dumps(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    )
    await socket.send(init)
    if payload is None:
        assert json.loads(await socket.recv())["type"] == "connection_ack"
    return socket


async def repeat(stop: asyncio.Event, workers: int, once: Callable[[], Awaitable[Any]]) -> int:
    """Runs `once` in `workers` loops until `stop`; returns how many completed."""
    done = 0

    async def loop() -> None:
        nonlocal done
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a refusal is the server doing its job
                await once()
            done += 1

    await asyncio.gather(*(loop() for _ in range(workers)))
    return done
