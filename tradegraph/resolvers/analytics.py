"""Resolvers for indicators and backtests."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import numpy as np
import strawberry
from strawberry import ID, Info

from tradegraph.analytics import indicators as indicator_rules
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
)
from tradegraph.subscriptions.analytics import backtest_progress as live_progress

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
    return BacktestConnection(
        edges=edges, has_next_page=more, end_cursor=edges[-1].cursor if edges else None
    )


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
