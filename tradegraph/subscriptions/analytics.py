"""Live analytics feeds: a research run's progress until it finishes, new insights."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from tradegraph.analytics.research_runs import ResearchRuns, Run
from tradegraph.auth.principal import Principal
from tradegraph.documents import InsightRecord
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import INSIGHTS_CREATED


async def run_progress(
    service: ResearchRuns[Run, Any], principal: Principal, run_id: str
) -> AsyncIterator[Run]:
    """A research run (backtest or optimisation) now, then after each progress or status
    change; ends once it has finished (COMPLETED, FAILED or CANCELED). NOT_FOUND as
    service.get. Updates are conflated: a slow reader gets the newest state, not every
    percent."""
    run = await service.get(principal, str(run_id))
    read = partial(service.get, principal, str(run.id))
    channel = service.kind.channel(str(run.id))
    async with service.broker.subscribe(
        channel, lambda m: [m], conflate=lambda m: "run"
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
