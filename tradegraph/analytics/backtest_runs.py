"""Backtest runs: validated, stored per owner, computed in the background with progress."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import structlog

from tradegraph.analytics.background_runs import fail_interrupted, publish_state
from tradegraph.analytics.backtest_engine import Bars, Strategy, run_backtest
from tradegraph.auth.principal import Principal
from tradegraph.documents import BacktestRun, BacktestStatus, CandleInterval, Role
from tradegraph.documents.lookup import by_id
from tradegraph.errors import DomainError, InvalidInput, NotFound
from tradegraph.markets.candles import candles
from tradegraph.markets.instruments import Instruments
from tradegraph.pagination import Page, Sort, count, fetch_page
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import backtest_channel

log = structlog.get_logger(__name__)

MAX_BARS = 1_100_000  # two years of one-minute bars
MAX_STORED_TRADES = 20_000  # keeps a run under MongoDB's 16 MiB document limit
PROGRESS_STEP = 0.05  # publish progress at most every 5%
MAX_PAGE_SIZE = 100  # a run holds up to 20,000 trades: pages stay small
NEWEST_FIRST = Sort("CREATED_AT_DESC", "created_at", -1)


@dataclass(frozen=True)
class BacktestRequest:
    symbol: str
    interval: CandleInterval
    from_: datetime
    to: datetime
    initial_cash: float
    fee_bps: float
    strategy: Strategy

    def checked(self) -> BacktestRequest:
        if self.from_ >= self.to:
            raise InvalidInput("from must be before to", field="from")
        if (self.to - self.from_).total_seconds() / self.interval.seconds > MAX_BARS:
            raise InvalidInput(f"at most {MAX_BARS:,} candles per backtest", field="to")
        if not self.initial_cash > 0:
            raise InvalidInput("initialCash must be greater than 0", field="initialCash")
        if not 0 <= self.fee_bps <= 1000:
            raise InvalidInput("feeBps must be between 0 and 1000", field="feeBps")
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


def _visible(principal: Principal, run: BacktestRun) -> bool:
    return run.owner_id == principal.user_id or principal.role is Role.ADMIN


class Backtests:
    def __init__(self, instruments: Instruments, broker: Broker) -> None:
        self.instruments = instruments
        self.broker = broker
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, principal: Principal, request: BacktestRequest) -> BacktestRun:
        """Stores the run QUEUED and computes it in the background; returns at once."""
        request.checked()
        instrument = await self.instruments.require(request.symbol)
        now = datetime.now(UTC)
        run = BacktestRun(
            owner_id=principal.user_id,
            status=BacktestStatus.QUEUED,
            symbol=instrument.symbol,
            interval=request.interval.value,
            from_=request.from_,
            to=request.to,
            initial_cash=request.initial_cash,
            fee_bps=request.fee_bps,
            strategy=asdict(request.strategy.checked()),
            created_at=now,
            updated_at=now,
        )
        await run.insert()
        task = asyncio.create_task(self._run(run, request))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return run

    async def get(self, principal: Principal, run_id: str) -> BacktestRun:
        run = await by_id(BacktestRun, run_id)
        if run is None or not _visible(principal, run):
            raise NotFound(f"backtest {run_id} not found", backtest_id=run_id)
        return run

    async def page(self, principal: Principal, first: int, after: str | None) -> Page[BacktestRun]:
        """Your runs, newest first."""
        match = {"owner_id": principal.user_id}
        return await fetch_page(BacktestRun, match, NEWEST_FIRST, first, after, MAX_PAGE_SIZE)

    async def count(self, principal: Principal) -> int:
        return await count(BacktestRun, {"owner_id": principal.user_id})

    async def _update(self, run: BacktestRun, **changes: Any) -> None:
        changes["updated_at"] = datetime.now(UTC)
        await run.set(changes)
        state = {"id": str(run.id), "status": run.status.value, "progress": run.progress}
        await publish_state(self.broker, backtest_channel(str(run.id)), state, run.status.finished)

    async def _run(self, run: BacktestRun, request: BacktestRequest) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._update(run, status=BacktestStatus.RUNNING, progress=0.0)
            bars = await load_bars(run.symbol, request.interval, request.from_, request.to)
            await self._update(run, progress=0.2, bars=len(bars.closes))
            reported = [0.2]

            def progress(fraction: float) -> None:  # called from the worker thread
                value = round(0.2 + 0.75 * fraction, 2)
                if value - reported[0] >= PROGRESS_STEP:
                    reported[0] = value
                    run.progress = value
                    asyncio.run_coroutine_threadsafe(self._update(run, progress=value), loop)

            result = await asyncio.to_thread(
                run_backtest,
                bars,
                request.strategy,
                request.initial_cash,
                request.fee_bps,
                request.interval.seconds,
                progress,
            )
            stored = asdict(result)
            stored["trades"] = stored["trades"][:MAX_STORED_TRADES]
            await self._update(
                run,
                status=BacktestStatus.COMPLETED,
                progress=1.0,
                result=stored,
                finished_at=datetime.now(UTC),
            )
            log.info(
                "backtest completed",
                id=str(run.id),
                bars=len(bars.closes),
                trades=result.trade_count,
            )
        except Exception as error:
            message = error.message if isinstance(error, DomainError) else "internal error"
            if not isinstance(error, DomainError):
                log.exception("backtest failed", id=str(run.id))
            await self._update(
                run, status=BacktestStatus.FAILED, error=message, finished_at=datetime.now(UTC)
            )

    async def fail_interrupted(self) -> int:
        """Runs left QUEUED or RUNNING by a process that stopped: FAILED, with the reason."""
        return await fail_interrupted(BacktestRun)

    async def stop(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
