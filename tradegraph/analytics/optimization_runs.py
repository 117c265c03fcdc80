"""Parameter optimisations: validated, stored per owner, computed in the background across the
worker pool with progress, optionally walked forward."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from tradegraph.analytics import walk_forward
from tradegraph.analytics.background_runs import fail_interrupted, publish_state
from tradegraph.analytics.backtest_engine import (
    MAX_CURVE_POINTS,
    BacktestResult,
    Bars,
    Strategy,
    StrategyKind,
    run_backtest,
)
from tradegraph.analytics.backtest_runs import (
    MAX_STORED_TRADES,
    NEWEST_FIRST,
    PROGRESS_STEP,
    BacktestRequest,
    load_bars,
)
from tradegraph.analytics.optimization import (
    GridJob,
    OptimizationMetric,
    Row,
    chunks,
    ranked,
    run_grid_chunk,
)
from tradegraph.analytics.parameter_grid import ParameterRange, count_combinations, grid
from tradegraph.analytics.parameter_grid import strategy_of as strategy_for
from tradegraph.analytics.worker_pool import WorkerPool
from tradegraph.auth.principal import Principal
from tradegraph.documents import (
    BacktestStatus,
    CandleInterval,
    OptimizationRows,
    OptimizationRun,
    Role,
)
from tradegraph.documents.lookup import by_id
from tradegraph.errors import DomainError, InvalidInput, NotFound
from tradegraph.markets.instruments import Instruments
from tradegraph.pagination import Page, count, fetch_page
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import optimization_channel

log = structlog.get_logger(__name__)

MAX_PAGE_SIZE = 100
RESULT_METRICS = (
    "total_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "trade_count",
)


@dataclass(frozen=True)
class WalkForward:
    folds: int
    train_fraction: float


@dataclass(frozen=True)
class OptimizationRequest:
    symbol: str
    interval: CandleInterval
    from_: datetime
    to: datetime
    initial_cash: float
    fee_bps: float
    kind: StrategyKind
    parameters: list[ParameterRange]
    maximize: OptimizationMetric
    constraint: str | None = None
    walk_forward: WalkForward | None = None

    def combinations(self) -> list[dict[str, float]]:
        """The grid to test; InvalidInput for a bad market range, grid or constraint."""
        BacktestRequest(
            self.symbol,
            self.interval,
            self.from_,
            self.to,
            self.initial_cash,
            self.fee_bps,
            Strategy(self.kind),
        ).checked()
        if self.walk_forward is not None:
            walk_forward.check_walk_forward(
                self.walk_forward.folds, self.walk_forward.train_fraction
            )
        count_combinations(self.kind, self.parameters)
        combos = grid(self.kind, self.parameters, self.constraint)
        if not combos:
            raise InvalidInput(
                "no combination satisfies the constraint and the strategy's rules "
                "(e.g. fast < slow)",
                field="constraint",
            )
        return combos


def _visible(principal: Principal, run: OptimizationRun) -> bool:
    return run.owner_id == principal.user_id or principal.role is Role.ADMIN


def _metrics_of(result: BacktestResult) -> dict[str, Any]:
    metrics = {name: getattr(result, name) for name in RESULT_METRICS}
    metrics["calmar"] = result.statistics.calmar
    metrics["sqn"] = result.statistics.sqn
    return metrics


def _stored(result: BacktestResult) -> dict[str, Any]:
    stored = asdict(result)
    stored["trades"] = stored["trades"][:MAX_STORED_TRADES]
    return stored


class Optimizations:
    def __init__(self, instruments: Instruments, broker: Broker, pool: WorkerPool) -> None:
        self.instruments = instruments
        self.broker = broker
        self.pool = pool
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, principal: Principal, request: OptimizationRequest) -> OptimizationRun:
        """Validates and stores the optimisation QUEUED, computes it in the background."""
        combos = request.combinations()
        instrument = await self.instruments.require(request.symbol)
        now = datetime.now(UTC)
        run = OptimizationRun(
            owner_id=principal.user_id,
            status=BacktestStatus.QUEUED,
            symbol=instrument.symbol,
            interval=request.interval.value,
            from_=request.from_,
            to=request.to,
            initial_cash=request.initial_cash,
            fee_bps=request.fee_bps,
            kind=request.kind.value,
            parameters=[asdict(r) for r in request.parameters],
            maximize=request.maximize.value,
            constraint=request.constraint,
            walk_forward=asdict(request.walk_forward) if request.walk_forward else None,
            combinations=len(combos),
            created_at=now,
            updated_at=now,
        )
        await run.insert()
        task = asyncio.create_task(self._run(run, request, combos))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return run

    async def get(self, principal: Principal, optimization_id: str) -> OptimizationRun:
        run = await by_id(OptimizationRun, optimization_id)
        if run is None or not _visible(principal, run):
            raise NotFound(
                f"optimization {optimization_id} not found", optimization_id=optimization_id
            )
        return run

    async def rows(self, optimization_id: str) -> list[Row]:
        """Every tested combination with its metrics, in grid order ([] until COMPLETED)."""
        found = await OptimizationRows.find_one(OptimizationRows.optimization_id == optimization_id)
        return found.rows if found else []

    async def page(
        self, principal: Principal, first: int, after: str | None
    ) -> Page[OptimizationRun]:
        """Your optimisations, newest first."""
        match = {"owner_id": principal.user_id}
        return await fetch_page(OptimizationRun, match, NEWEST_FIRST, first, after, MAX_PAGE_SIZE)

    async def count(self, principal: Principal) -> int:
        return await count(OptimizationRun, {"owner_id": principal.user_id})

    async def _update(self, run: OptimizationRun, **changes: Any) -> None:
        changes["updated_at"] = datetime.now(UTC)
        await run.set(changes)
        state = {"id": str(run.id), "status": run.status.value, "progress": run.progress}
        await publish_state(
            self.broker, optimization_channel(str(run.id)), state, run.status.finished
        )

    async def _run(
        self, run: OptimizationRun, request: OptimizationRequest, combos: list[dict[str, float]]
    ) -> None:
        try:
            await self._update(run, status=BacktestStatus.RUNNING, progress=0.0)
            bars = await load_bars(run.symbol, request.interval, request.from_, request.to)
            if len(bars.closes) < 2:
                raise InvalidInput("the range holds fewer than 2 candles: nothing to optimise")
            splits = []
            if request.walk_forward is not None:
                wf = request.walk_forward
                splits = walk_forward.splits(len(bars.closes), wf.folds, wf.train_fraction)
            await self._update(run, progress=0.05, bars=len(bars.closes))
            progress = _Progress(self, run, stages=1 + len(splits))
            rows = await self._grid(bars, request, combos, progress)
            best = ranked(rows, request.maximize)[0]
            result = await asyncio.to_thread(
                run_backtest,
                bars,
                strategy_for(request.kind, best["parameters"]),
                request.initial_cash,
                request.fee_bps,
                request.interval.seconds,
            )
            await OptimizationRows(optimization_id=str(run.id), rows=rows).insert()
            folds, curve = await self._walk_forward(bars, request, combos, splits, progress)
            await self._update(
                run,
                status=BacktestStatus.COMPLETED,
                progress=1.0,
                best_parameters=best["parameters"],
                best=_stored(result),
                folds=folds,
                out_of_sample_equity=curve,
                finished_at=datetime.now(UTC),
            )
            log.info("optimization completed", id=str(run.id), combinations=len(combos))
        except Exception as error:
            message = error.message if isinstance(error, DomainError) else "internal error"
            if not isinstance(error, DomainError):
                log.exception("optimization failed", id=str(run.id))
            await self._update(
                run, status=BacktestStatus.FAILED, error=message, finished_at=datetime.now(UTC)
            )

    async def _grid(
        self,
        bars: Bars,
        request: OptimizationRequest,
        combos: list[dict[str, float]],
        progress: _Progress,
    ) -> list[Row]:
        """Every combination's metrics, the grid split into chunks across the pool."""
        parts = chunks(combos, self.pool.workers)
        jobs = [
            GridJob(
                bars.times,
                bars.opens,
                bars.closes,
                request.kind,
                part,
                request.initial_cash,
                request.fee_bps,
                request.interval.seconds,
            )
            for part in parts
        ]

        async def one(job: GridJob) -> list[Row]:
            rows = await self.pool.run(run_grid_chunk, job)
            await progress.advance(len(job.combinations) / len(combos))
            return rows

        results = await asyncio.gather(*(one(job) for job in jobs))
        return [row for part in results for row in part]

    async def _walk_forward(
        self,
        bars: Bars,
        request: OptimizationRequest,
        combos: list[dict[str, float]],
        splits: list[walk_forward.Split],
        progress: _Progress,
    ) -> tuple[list[dict[str, Any]], list[tuple[int, float]]]:
        """Per fold: the grid on the in-sample bars, its winner run on the out-of-sample bars
        starting from the previous fold's final equity; and the stitched out-of-sample curve."""
        folds: list[dict[str, Any]] = []
        curve: list[tuple[int, float]] = []
        cash = request.initial_cash
        for index, split in enumerate(splits):
            train = walk_forward.part(bars, split.train_start, split.train_stop)
            test = walk_forward.part(bars, split.train_stop, split.test_stop)
            best = ranked(await self._grid(train, request, combos, progress), request.maximize)[0]
            result = await asyncio.to_thread(
                run_backtest,
                test,
                strategy_for(request.kind, best["parameters"]),
                cash,
                request.fee_bps,
                request.interval.seconds,
            )
            folds.append(
                {
                    "index": index,
                    "train_from": int(train.times[0]),
                    "train_to": int(train.times[-1]),
                    "test_from": int(test.times[0]),
                    "test_to": int(test.times[-1]),
                    "parameters": best["parameters"],
                    "in_sample": best["metrics"],
                    "out_of_sample": _metrics_of(result),
                    "initial_equity": cash,
                    "final_equity": result.final_equity,
                }
            )
            curve.extend(result.equity_curve)
            cash = result.final_equity
        step = max(1, -(-len(curve) // MAX_CURVE_POINTS))
        sampled = curve[::step]
        if curve and sampled[-1] != curve[-1]:
            sampled.append(curve[-1])
        return folds, sampled

    async def fail_interrupted(self) -> int:
        """Optimisations left QUEUED or RUNNING by a process that stopped: FAILED."""
        return await fail_interrupted(OptimizationRun)

    async def stop(self) -> None:
        """Cancels running optimisations, then shuts the worker pool down."""
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.pool.close()


class _Progress:
    """Progress across the stages (the whole grid, then each fold's grid), 0.05 → 0.95."""

    def __init__(self, service: Optimizations, run: OptimizationRun, stages: int) -> None:
        self.service = service
        self.run = run
        self.stages = stages
        self.done = 0.0
        self.reported = 0.05

    async def advance(self, fraction_of_stage: float) -> None:
        self.done += fraction_of_stage / self.stages
        value = round(0.05 + 0.9 * min(self.done, 1.0), 2)
        if value - self.reported >= PROGRESS_STEP:
            self.reported = value
            self.run.progress = value
            await self.service._update(self.run, progress=value)
