"""Resolvers for parameter optimisations."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

from strawberry import ID

from tradegraph.schema.core.context import Info
from tradegraph.schema.optimizations import Optimization, OptimizationConnection, OptimizeInput
from tradegraph.subscriptions.analytics import run_progress


async def optimize_backtest(info: Info, input: OptimizeInput) -> Optimization:
    """Starts a parameter optimisation and returns at once (QUEUED): every combination of the
    ranges is backtested across the server's worker processes on candles loaded once. Follow
    it with optimizationProgress(id) or poll optimization(id). Over 10,000 combinations, an
    unknown parameter, a range that cannot be enumerated or a constraint outside its grammar
    is BAD_USER_INPUT; with TRADEGRAPH_QUEUED_RUNS_PER_USER of your runs already waiting,
    RATE_LIMITED."""
    run = await info.context.services.optimizations.start(
        info.context.require_principal(), input.to_request()
    )
    return Optimization.from_document(run)


async def optimization(info: Info, id: ID) -> Optimization:
    """One of your optimisations (ADMIN: anyone's); otherwise NOT_FOUND."""
    service = info.context.services.optimizations
    run = await service.get(info.context.require_principal(), str(id))
    return Optimization.from_document(run)


async def cancel_optimization(info: Info, id: ID) -> Optimization:
    """Cancels one of your QUEUED or RUNNING optimisations (ADMIN: anyone's): it is CANCELED
    at once and its grid stops within a second. CONFLICT once it has finished; NOT_FOUND for
    another user's."""
    service = info.context.services.optimizations
    run = await service.cancel(info.context.require_principal(), str(id))
    return Optimization.from_document(run)


async def optimizations(
    info: Info, first: int = 20, after: str | None = None
) -> OptimizationConnection:
    """Your optimisations, newest first; `first` at most 100, `after: endCursor` for more."""
    principal = info.context.require_principal()
    service = info.context.services.optimizations
    found = await service.page(principal, first, after)
    count = partial(service.count, principal)
    return OptimizationConnection.from_page(found, Optimization.from_document, count)


async def optimization_progress(info: Info, id: ID) -> AsyncGenerator[Optimization, None]:
    """The optimisation's status and progress now and at each change; completes once it is
    COMPLETED (with its results), FAILED or CANCELED. Same visibility as optimization(id)."""
    service = info.context.services.optimizations
    async for current in run_progress(service, info.context.require_principal(), id):
        yield Optimization.from_document(current)
