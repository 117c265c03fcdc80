"""Backtest runs: the request and its rules, and the work of one run (its candles, then the
engine in a thread). Storage, queueing, progress and cancel: analytics/research_runs.py."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

import numpy as np

from tradegraph.analytics.backtest_engine import BacktestResult, Bars, Strategy, run_backtest
from tradegraph.analytics.research_runs import RunStopped, RunWork
from tradegraph.analytics.run_market import RunMarket
from tradegraph.documents import BacktestRun, CandleInterval
from tradegraph.markets.candles import candles
from tradegraph.pubsub.channels import backtest_channel

MAX_STORED_TRADES = 20_000  # keeps a run under MongoDB's 16 MiB document limit


@dataclass(frozen=True)
class BacktestRequest(RunMarket):
    strategy: Strategy

    def checked(self) -> BacktestRequest:
        self.check_market()
        self.strategy.checked()
        return self


async def load_bars(symbol: str, interval: CandleInterval, from_: datetime, to: datetime) -> Bars:
    """The candles of the range as arrays, for the engine."""
    rows = await candles(symbol, interval, from_, to)
    return Bars(
        times=np.array([int(c.start.timestamp()) for c in rows], dtype=np.int64),
        opens=np.array([float(c.open) for c in rows]),
        closes=np.array([float(c.close) for c in rows]),
    )


def stored_result(result: BacktestResult) -> dict[str, Any]:
    """A result as a run stores it: at most MAX_STORED_TRADES trades."""
    stored = asdict(result)
    stored["trades"] = stored["trades"][:MAX_STORED_TRADES]
    return stored


class BacktestKind:
    """One backtest: the engine over the run's candles, in a thread."""

    noun: ClassVar = "backtest"
    document: ClassVar = BacktestRun
    channel: ClassVar = staticmethod(backtest_channel)

    def fields(self, request: BacktestRequest) -> dict[str, Any]:
        request.checked()
        return {**request.market(), "strategy": asdict(request.strategy.checked())}

    async def execute(
        self, run: BacktestRun, request: BacktestRequest, work: RunWork
    ) -> dict[str, Any]:
        bars = await load_bars(run.symbol, request.interval, request.from_, request.to)
        await work.progress(0.2, bars=len(bars.closes))
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()

        def progress(fraction: float) -> None:  # called from the engine's thread
            if stopping.is_set():
                raise RunStopped  # cancelled: the engine stops at its next step
            value = 0.2 + 0.75 * fraction
            asyncio.run_coroutine_threadsafe(work.progress(value), loop)

        try:
            result = await asyncio.to_thread(
                run_backtest,
                bars,
                request.strategy,
                request.initial_cash,
                request.fee_bps,
                request.interval.seconds,
                progress,
            )
        finally:
            stopping.set()
        return {"result": stored_result(result)}
