"""WebSocket load for the soak: sockets that come, subscribe, hear a message and go, over and
over, as dashboards opening and closing do; and dashboards that stay open the whole run. Shared
feeds, outboxes, per-user limits and private feeds must give back what each socket took, and a
subscription open for hours must not grow with the messages it sends, so memory stays flat."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.support.clients import TransportWS, connected

SOCKETS_PER_CYCLE = 20
SHARED = 'subscription { quotes(symbols: ["PETR4", "VALE3"]) { symbol bid ask last } }'
PRIVATE = "subscription($id: ID!) { orderUpdates(portfolioId: $id) { id status } }"
WATCHLIST = '["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "BTCUSDT", "ETHUSDT", "AAPL"]'
HELD = {
    "q": f"subscription {{ quotes(symbols: {WATCHLIST}) {{ symbol bid ask mid timestamp }} }}",
    "v": """subscription($id: ID!) { portfolioValue(portfolioId: $id) {
      cash equity unrealizedPnl dayPnl timestamp } }""",
    "e": """subscription($id: ID!) { orderEvents(portfolioId: $id, after: "0") {
      cursor kind order { id status } } }""",
}


class SubscriptionChurn:
    """Runs cycles in the background between `start()` and `stop()`: 20 sockets each
    subscribe to shared quotes and a private feed, wait for a quote, and close."""

    def __init__(self, url: str, token: str, portfolio_id: str) -> None:
        self.url = url
        self.token = token
        self.portfolio_id = portfolio_id
        self.sockets = 0
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Ends after the cycle under way has closed its sockets (cancelling it would leave
        up to 40 sockets open, and their subscriptions counted as still open)."""
        assert self.task is not None
        self.stopping.set()
        await self.task

    async def _run(self) -> None:
        while not self.stopping.is_set():
            clients = await asyncio.gather(
                *(self._one() for _ in range(SOCKETS_PER_CYCLE)), return_exceptions=False
            )
            await asyncio.gather(*(client.close() for client in clients))
            self.sockets += len(clients)

    async def _one(self) -> TransportWS:
        client = await connected(self.url, self.token)
        await client.subscribe("q", SHARED)
        await client.subscribe("o", PRIVATE, {"id": self.portfolio_id})
        message = await client.receive(timeout=30)
        assert message["type"] == "next", message
        return client


class HeldDashboards:
    """`count` sockets open from `start()` to `stop()`, each with a dashboard's live feeds
    (quotes of a watchlist, the portfolio's value, its order events), reading every message."""

    def __init__(self, url: str, token: str, portfolio_id: str, count: int = 3) -> None:
        self.url = url
        self.token = token
        self.portfolio_id = portfolio_id
        self.count = count
        self.messages: dict[str, int] = dict.fromkeys(HELD, 0)
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        ready = [asyncio.Event() for _ in range(self.count)]
        self.tasks = [asyncio.create_task(self._hold(event)) for event in ready]
        await asyncio.gather(*(event.wait() for event in ready))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        failed = [r for r in results if not isinstance(r, asyncio.CancelledError)]
        assert not failed, f"a held dashboard ended early: {failed[0]!r}"

    async def _hold(self, ready: asyncio.Event) -> None:
        client = await connected(self.url, self.token)
        try:
            for operation, query in HELD.items():
                variables = {"id": self.portfolio_id} if operation != "q" else None
                await client.subscribe(operation, query, variables)
            ready.set()
            while True:
                message = await client.receive(timeout=60)
                assert message["type"] == "next", message
                self.messages[message["id"]] += 1
        finally:
            await client.close()


async def live_subscriptions(http: httpx.AsyncClient) -> dict[str, float]:
    """What /metrics says is open now: sockets served and shared executions."""
    text = (await http.get("/metrics")).text
    found: dict[str, float] = {}
    for name in ("tradegraph_subscribers", "tradegraph_subscription_sources"):
        values = re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
        found[name] = sum(float(value) for value in values)
    return found


def describe(
    churn: SubscriptionChurn, held: HeldDashboards, before: dict[str, Any], after: dict[str, Any]
) -> str:
    received = ", ".join(f"{HELD_NAMES[k]} {n:,}" for k, n in held.messages.items())
    return (
        f"subscription churn: {churn.sockets:,} sockets opened, subscribed and closed; "
        f"{held.count} dashboards held open throughout received {received}; "
        f"open before {before} → after {after}"
    )


HELD_NAMES = {"q": "quotes", "v": "portfolio values", "e": "order events"}
