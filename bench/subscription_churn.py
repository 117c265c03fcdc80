"""WebSocket churn for the soak: sockets that come, subscribe, hear a message and go, over and
over, as dashboards opening and closing do. Shared feeds, outboxes, per-user limits and private
feeds must give back what each socket took, so the server's memory stays flat."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import httpx

from tests.support.clients import TransportWS, connected

SOCKETS_PER_CYCLE = 20
SHARED = 'subscription { quotes(symbols: ["PETR4", "VALE3"]) { symbol bid ask last } }'
PRIVATE = "subscription($id: ID!) { orderUpdates(portfolioId: $id) { id status } }"


class SubscriptionChurn:
    """Runs cycles in the background between `start()` and `stop()`: 20 sockets each
    subscribe to shared quotes and a private feed, wait for a quote, and close."""

    def __init__(self, url: str, token: str, portfolio_id: str) -> None:
        self.url = url
        self.token = token
        self.portfolio_id = portfolio_id
        self.sockets = 0
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def _run(self) -> None:
        while True:
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


async def live_subscriptions(http: httpx.AsyncClient) -> dict[str, float]:
    """What /metrics says is open now: sockets served and shared executions."""
    text = (await http.get("/metrics")).text
    found: dict[str, float] = {}
    for name in ("tradegraph_subscribers", "tradegraph_subscription_sources"):
        values = re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
        found[name] = sum(float(value) for value in values)
    return found


def describe(churn: SubscriptionChurn, before: dict[str, Any], after: dict[str, Any]) -> str:
    return (
        f"subscription churn: {churn.sockets:,} sockets opened, subscribed and closed; "
        f"open before {before} → after {after}"
    )
