"""Resolvers for parameter optimisations."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

from strawberry import ID

from tradegraph.schema.core.context import Info
from tradegraph.schema.optimizations import Optimization, OptimizationConnection, OptimizeInput
from tradegraph.subscriptions.optimizations import optimization_progress as live_progress


async def optimize_backtest(info: Info, input: OptimizeInput) -> Optimization:
    """Starts a parameter optimisation and returns at once (QUEUED): every combination of the
    ranges is backtested across the server's worker processes on candles loaded once. Follow
    it with optimizationProgress(id) or poll optimization(id). Over 10,000 combinations, an
    unknown parameter or a constraint outside its grammar is BAD_USER_INPUT."""
    run = await info.context.services.optimizations.start(
        info.context.require_principal(), input.to_request()
    )
    return Optimization.from_document(run)


async def optimization(info: Info, id: ID) -> Optimization:
    """One of your optimisations (ADMIN: anyone's); otherwise NOT_FOUND."""
    service = info.context.services.optimizations
    return Optimization.from_document(await service.get(info.context.require_principal(), id))


async def optimizations(
    info: Info, first: int = 20, after: str | None = None
) -> OptimizationConnection:
    """Your optimisations, newest first; `first` at most 100, `after: endCursor` for more."""
    principal = info.context.require_principal()
    service = info.context.services.optimizations
    page = await service.page(principal, first, after)
    return OptimizationConnection.from_page(
        page, Optimization.from_document, partial(service.count, principal)
    )


async def optimization_progress(info: Info, id: ID) -> AsyncGenerator[Optimization, None]:
    """The optimisation's status and progress now and at each change; completes once it is
    COMPLETED (with its results) or FAILED. Same visibility as optimization(id)."""
    service = info.context.services.optimizations
    principal = info.context.require_principal()
    run = await service.get(principal, str(id))
    read = partial(service.get, principal, str(run.id))
    async for current in live_progress(service.broker, str(run.id), read):
        yield Optimization.from_document(current)
