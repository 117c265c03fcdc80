"""Live analytics feeds: a backtest run's progress until it finishes, new insights."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from tradegraph.documents import BacktestRun, InsightRecord
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import INSIGHTS_CREATED, backtest_channel


async def backtest_progress(
    broker: Broker, run_id: str, read: Callable[[], Awaitable[BacktestRun]]
) -> AsyncIterator[BacktestRun]:
    """The run now, then after each progress or status change; ends when it has finished.
    Updates are conflated: a slow reader gets the newest state, not every percent."""
    async with broker.subscribe(
        backtest_channel(run_id), lambda m: [m], conflate=lambda m: "run"
    ) as updates:
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
