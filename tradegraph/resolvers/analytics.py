"""Resolvers for indicators, backtests, risk and insights."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry import ID

from tradegraph.schema.backtests import BacktestConnection, BacktestInput, BacktestRun
from tradegraph.schema.core.context import Info
from tradegraph.schema.indicators import IndicatorSeries, IndicatorSpec
from tradegraph.schema.insights import Insight
from tradegraph.schema.markets import CandleInterval
from tradegraph.schema.risk import PortfolioRisk
from tradegraph.subscriptions.analytics import insights_created, run_progress


async def indicators(
    info: Info,
    symbol: str,
    interval: CandleInterval,
    specs: list[IndicatorSpec],
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
) -> list[IndicatorSeries]:
    """One series per spec, in order, on the closes of `candles(symbol, interval, from, to)`
    (default: the last day). A period ≤ 0, or MACD fast ≥ slow, is BAD_USER_INPUT."""
    values = [spec.to_value() for spec in specs]
    found = await info.context.services.indicators.compute(symbol, interval, values, from_, to)
    return [IndicatorSeries.from_value(series) for series in found]


async def run_backtest(info: Info, input: BacktestInput) -> BacktestRun:
    """Starts a backtest and returns at once (QUEUED); follow it with backtestProgress(id) or
    poll backtest(id). Runs belong to you. With TRADEGRAPH_QUEUED_RUNS_PER_USER of your runs
    already waiting, RATE_LIMITED."""
    run = await info.context.services.backtests.start(
        info.context.require_principal(), input.to_request()
    )
    return BacktestRun.from_document(run)


async def backtest(info: Info, id: ID) -> BacktestRun:
    """One of your runs (ADMIN: anyone's); otherwise NOT_FOUND."""
    run = await info.context.services.backtests.get(info.context.require_principal(), str(id))
    return BacktestRun.from_document(run)


async def cancel_backtest(info: Info, id: ID) -> BacktestRun:
    """Cancels one of your QUEUED or RUNNING backtests (ADMIN: anyone's): it is CANCELED at
    once and its work stops within a second. CONFLICT once it has finished; NOT_FOUND for
    another user's."""
    service = info.context.services.backtests
    run = await service.cancel(info.context.require_principal(), str(id))
    return BacktestRun.from_document(run)


async def backtests(info: Info, first: int = 20, after: str | None = None) -> BacktestConnection:
    """Your runs, newest first; `first` at most 100, `after: endCursor` for more."""
    principal = info.context.require_principal()
    service = info.context.services.backtests
    count = partial(service.count, principal)
    page = await service.page(principal, first, after)
    return BacktestConnection.from_page(page, BacktestRun.from_document, count)


async def backtest_progress(info: Info, id: ID) -> AsyncGenerator[BacktestRun, None]:
    """The run's status and progress now and at each change; completes once it is COMPLETED
    (with its result), FAILED or CANCELED. Same visibility as backtest(id)."""
    updates = run_progress(info.context.services.backtests, info.context.require_principal(), id)
    async for current in updates:
        yield BacktestRun.from_document(current)


async def portfolio_risk(info: Info, portfolio_id: ID) -> PortfolioRisk:
    """Volatility, VaR, beta, concentration and a risk score of a portfolio's holdings. Same
    visibility as `portfolio`."""
    portfolio = await info.context.readable_portfolio(str(portfolio_id))
    risk = await info.context.services.risk.assess(portfolio)
    return PortfolioRisk.from_value(risk, portfolio.base_currency)


async def insight(info: Info, range: str | None = "24h") -> Insight:
    """A short insight on the last `range` (15m, 24h, 7d…), from the cache when the facts have
    not changed (cached: true, no model call). ADMIN and ANALYST. Never fails because of the
    model: without OPENAI_API_KEY, or when the API fails, it is a TEMPLATE with a reason."""
    record, cached = await info.context.services.insights.cached_or_new(range or "24h")
    return Insight.from_document(record, cached=cached)


async def generate_insight(info: Info, range: str | None = None) -> Insight:
    """Like `insight` (range default 24h), but always asks the model afresh (and refreshes the
    cache)."""
    return Insight.from_document(await info.context.services.insights.generate(range or "24h"))


async def insight_created(info: Info) -> AsyncGenerator[Insight, None]:
    """Every new insight, from any server process (ADMIN and ANALYST)."""
    async for record in insights_created(info.context.services.broker):
        yield Insight.from_document(record)
