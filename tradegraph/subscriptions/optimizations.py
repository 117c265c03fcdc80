"""Live feed of one parameter optimisation's progress until it finishes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from tradegraph.documents import OptimizationRun
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import optimization_channel


async def optimization_progress(
    broker: Broker, optimization_id: str, read: Callable[[], Awaitable[OptimizationRun]]
) -> AsyncIterator[OptimizationRun]:
    """The optimisation now, then after each progress or status change; ends when it has
    finished. Updates are conflated: a slow reader gets the newest state."""
    async with broker.subscribe(
        optimization_channel(optimization_id), lambda m: [m], conflate=lambda m: "run"
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
