"""Live analytics feeds: a research run's progress until it finishes, new insights."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from tradegraph.documents import InsightRecord
from tradegraph.documents.analytics import BackgroundRun
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import INSIGHTS_CREATED

Run = TypeVar("Run", bound=BackgroundRun)


async def run_progress(
    broker: Broker, channel: str, read: Callable[[], Awaitable[Run]]
) -> AsyncIterator[Run]:
    """A research run (backtest or optimisation) now, then after each progress or status
    change; ends once it has finished (COMPLETED, FAILED or CANCELED). Updates are conflated:
    a slow reader gets the newest state, not every percent."""
    async with broker.subscribe(channel, lambda m: [m], conflate=lambda m: "run") as updates:
        run = await read()  # after subscribing: no change falls in between
        yield run
        if run.status.finished:
            return
        async for _ in updates:
            run = await read()
            yield run
            if run.status.finished:
                return


async def insights_created(broker: Broker) -> AsyncIterator[InsightRecord]:
    """Every new insight, from any server process."""
    async with broker.subscribe(INSIGHTS_CREATED, lambda record: [record]) as live:
        async for record in live:
            yield record
