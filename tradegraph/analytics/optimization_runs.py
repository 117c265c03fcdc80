"""Parameter optimisations: the request and its rules, and the work of one run: the grid over
the worker pool in chunks (its bars written once for the workers to map), the winner's full
backtest, then optionally the walk-forward folds. Storage, queueing, progress and cancel:
analytics/research_runs.py."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from tradegraph.analytics import walk_forward
from tradegraph.analytics.backtest_engine import (
    MAX_CURVE_POINTS,
    BacktestResult,
    Bars,
    StrategyKind,
    run_backtest,
)
from tradegraph.analytics.backtest_runs import load_bars, stored_result
from tradegraph.analytics.grid_backtest import BarsFile, GridJob, Row, run_grid_chunk
from tradegraph.analytics.metrics import METRIC_NAMES
from tradegraph.analytics.optimization import OptimizationMetric, StoredRows, chunks, ranked
from tradegraph.analytics.parameter_grid import ParameterRange, count_combinations, grid
from tradegraph.analytics.parameter_grid import strategy_of as strategy_for
from tradegraph.analytics.research_runs import RunWork
from tradegraph.analytics.run_market import RunMarket
from tradegraph.documents import OptimizationRows, OptimizationRun
from tradegraph.errors import InvalidInput
from tradegraph.pubsub.channels import optimization_channel


@dataclass(frozen=True)
class WalkForward:
    folds: int
    train_fraction: float


@dataclass(frozen=True)
class OptimizationRequest(RunMarket):
    kind: StrategyKind
    parameters: list[ParameterRange]
    maximize: OptimizationMetric
    constraint: str | None = None
    walk_forward: WalkForward | None = None

    def combinations(self) -> list[dict[str, float]]:
        """The grid to test; InvalidInput for a bad market range, grid or constraint."""
        self.check_market()
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


def metrics_of(result: BacktestResult) -> dict[str, Any]:
    """A full result's metrics, as a grid row holds them."""
    return {
        name: getattr(result, name) if hasattr(result, name) else getattr(result.statistics, name)
        for name in METRIC_NAMES
    }


class OptimizationKind:
    """A grid of backtests across the worker pool, then its winner in full."""

    document: ClassVar = OptimizationRun
    channel: ClassVar = staticmethod(optimization_channel)
    noun: ClassVar = "optimization"

    def fields(self, request: OptimizationRequest) -> dict[str, Any]:
        wf = request.walk_forward
        return {
            "combinations": len(request.combinations()),  # checks the whole request first
            **request.market(),
            "kind": request.kind.value,
            "parameters": [asdict(r) for r in request.parameters],
            "maximize": request.maximize.value,
            "constraint": request.constraint,
            "walk_forward": asdict(wf) if wf else None,
        }

    async def execute(
        self, run: OptimizationRun, request: OptimizationRequest, work: RunWork
    ) -> dict[str, Any]:
        combos = await asyncio.to_thread(request.combinations)
        bars = await load_bars(run.symbol, request.interval, request.from_, request.to)
        if len(bars.closes) < 2:
            raise InvalidInput("the range holds fewer than 2 candles: nothing to optimise")
        splits = []
        if request.walk_forward is not None:
            wf = request.walk_forward
            splits = walk_forward.splits(len(bars.closes), wf.folds, wf.train_fraction)
        await work.progress(0.05, bars=len(bars.closes))
        grids = _Grids(work, request, combos, BarsFile(bars), stages=1 + len(splits))
        try:
            rows = await grids.rows(0, len(bars.closes))
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
            folds, curve = await _walk_forward(grids, bars, request, splits)
        finally:
            grids.bars_file.remove()
        return {
            "best_parameters": best["parameters"],
            "best": stored_result(result),
            "folds": folds,
            "out_of_sample_equity": curve,
        }


class _Grids:
    """The run's grids (the whole range, then each fold's in-sample part), with progress
    across them from 0.05 to 0.95."""

    def __init__(
        self,
        work: RunWork,
        request: OptimizationRequest,
        combos: list[dict[str, float]],
        bars_file: BarsFile,
        stages: int,
    ) -> None:
        self.work = work
        self.request = request
        self.combos = combos
        self.bars_file = bars_file
        self.stages = stages
        self.done = 0.0

    async def rows(self, start: int, stop: int) -> list[Row]:
        """Every combination's metrics on bars [start, stop), in grid order."""
        r = self.request
        parts = chunks(self.combos, self.work.service.queue.pool.workers)
        jobs = [
            GridJob(
                self.bars_file.path,
                start,
                stop,
                r.kind,
                [self.combos[i] for i in part],
                r.initial_cash,
                r.fee_bps,
                r.interval.seconds,
            )
            for part in parts
        ]
        found = await self.work.in_pool(run_grid_chunk, jobs, self._advance)
        rows: list[Row] = [{}] * len(self.combos)
        for part, part_rows in zip(parts, found, strict=True):
            for index, row in zip(part, part_rows, strict=True):
                rows[index] = row
        return rows

    async def _advance(self, job: GridJob) -> None:
        self.done += len(job.combinations) / len(self.combos) / self.stages
        await self.work.progress(0.05 + 0.9 * min(self.done, 1.0))


async def _walk_forward(
    grids: _Grids, bars: Bars, request: OptimizationRequest, splits: list[walk_forward.Split]
) -> tuple[list[dict[str, Any]], list[tuple[int, float]]]:
    """Per fold: the grid on the in-sample bars, its winner run on the out-of-sample bars
    starting from the previous fold's final equity; and the stitched out-of-sample curve."""
    folds: list[dict[str, Any]] = []
    curve: list[tuple[int, float]] = []
    cash = request.initial_cash
    for index, split in enumerate(splits):
        train = walk_forward.part(bars, split.train_start, split.train_stop)
        test = walk_forward.part(bars, split.train_stop, split.test_stop)
        in_sample = await grids.rows(split.train_start, split.train_stop)
        best = ranked(in_sample, request.maximize)[0]
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
                "out_of_sample": metrics_of(result),
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


async def rows_of(optimization_ids: list[str]) -> list[StoredRows]:
    """Each optimisation's rows in grid order ([] until COMPLETED), one query for all."""
    found = await OptimizationRows.find({"optimization_id": {"$in": optimization_ids}}).to_list()
    by_id = {stored.optimization_id: stored.rows for stored in found}
    return [StoredRows(by_id.get(optimization_id, [])) for optimization_id in optimization_ids]
