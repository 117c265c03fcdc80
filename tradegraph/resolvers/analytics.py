"""Resolvers for indicators and backtests."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import numpy as np
import strawberry
from strawberry import ID, Info

from tradegraph.analytics import indicators as indicator_rules
from tradegraph.analytics import risk as risk_rules
from tradegraph.documents import BacktestRun as BacktestRunDocument
from tradegraph.documents import CandleInterval as CandleIntervalValue
from tradegraph.errors import InvalidInput
from tradegraph.markets import candles as candle_rules
from tradegraph.schema.analytics import (
    BacktestConnection,
    BacktestEdge,
    BacktestInput,
    BacktestRun,
    IndicatorPoint,
    IndicatorSeries,
    IndicatorSpec,
    Insight,
    PortfolioRisk,
)
from tradegraph.schema.events import PageInfo
from tradegraph.subscriptions.analytics import backtest_progress as live_progress
from tradegraph.trading.portfolios import readable_portfolio
from tradegraph.trading.valuation import value_portfolio

MAX_SPECS = 10


def _series(
    spec: indicator_rules.IndicatorSpec, times: list[datetime], closes: np.ndarray
) -> IndicatorSeries:
    checked = spec.checked()
    columns = indicator_rules.compute(checked, closes)
    defined = np.flatnonzero(columns.defined())

    def at(column: np.ndarray | None, i: int) -> float | None:
        return None if column is None else float(column[i])

    points = [
        IndicatorPoint(
            time=times[i],
            value=at(columns.value, i),
            upper=at(columns.upper, i),
            middle=at(columns.middle, i),
            lower=at(columns.lower, i),
            signal=at(columns.signal, i),
            histogram=at(columns.histogram, i),
        )
        for i in defined
    ]
    return IndicatorSeries(name=checked.name, points=points)


async def indicators(
    info: Info,
    symbol: str,
    interval: CandleIntervalValue,
    specs: list[IndicatorSpec],
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
) -> list[IndicatorSeries]:
    """One series per spec, in order, on the closes of `candles(symbol, interval, from, to)`
    (default: the last day). A period ≤ 0, or MACD fast ≥ slow, is BAD_USER_INPUT."""
    if not 0 < len(specs) <= MAX_SPECS:
        raise InvalidInput(f"give 1 to {MAX_SPECS} specs", field="specs")
    values = [spec.to_value() for spec in specs]
    for value in values:
        value.checked()
    found = await info.context.services.instruments.require(symbol)
    start, end = candle_rules.candle_range(from_, to, interval)
    rows = await candle_rules.candles(found.symbol, interval, start, end)
    times = [row.start for row in rows]
    closes = np.array([float(row.close) for row in rows])
    return [_series(value, times, closes) for value in values]


async def run_backtest(info: Info, input: BacktestInput) -> BacktestRun:
    """Starts a backtest and returns at once (QUEUED); follow it with backtestProgress(id) or
    poll backtest(id). Runs belong to you."""
    run = await info.context.services.backtests.start(
        info.context.require_principal(), input.to_request()
    )
    return BacktestRun.from_document(run)


async def backtest(info: Info, id: ID) -> BacktestRun:
    """One of your runs (ADMIN: anyone's); otherwise NOT_FOUND."""
    run = await info.context.services.backtests.get(info.context.require_principal(), str(id))
    return BacktestRun.from_document(run)


async def backtests(info: Info, first: int = 20, after: str | None = None) -> BacktestConnection:
    """Your runs, newest first; `first` at most 100, `after: endCursor` for more."""
    runs, more = await info.context.services.backtests.page(
        info.context.require_principal(), first, after
    )
    edges = [BacktestEdge(cursor=str(run.id), node=BacktestRun.from_document(run)) for run in runs]
    end = edges[-1].cursor if edges else None
    return BacktestConnection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end))


async def backtest_progress(info: Info, id: ID) -> AsyncGenerator[BacktestRun, None]:
    """The run's status and progress now and at each change; completes once it is COMPLETED
    (with its result) or FAILED. Same visibility as backtest(id)."""
    service = info.context.services.backtests
    principal = info.context.require_principal()
    run = await service.get(principal, str(id))

    async def read() -> BacktestRunDocument:
        return await service.get(principal, str(run.id))

    async for current in live_progress(service.broker, str(run.id), read):
        yield BacktestRun.from_document(current)


async def portfolio_risk(info: Info, portfolio_id: ID) -> PortfolioRisk:
    """Volatility, VaR, beta, concentration and a risk score of a portfolio's holdings. Same
    visibility as `portfolio`."""
    services = info.context.services
    found = await readable_portfolio(info.context.require_principal(), str(portfolio_id))
    value = await value_portfolio(found, services.market)
    risk = await risk_rules.portfolio_risk(value, services.settings.risk_benchmark_symbol)
    return PortfolioRisk(
        volatility=risk.volatility,
        value_at_risk_95=risk.value_at_risk_95,
        beta=risk.beta,
        concentration=risk.concentration,
        risk_score=risk.risk_score,
        days=risk.days,
    )


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
    async for record in info.context.services.insights.created():
        yield Insight.from_document(record)
