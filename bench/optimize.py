"""A 1,000-combination SMA_CROSSOVER grid on a year of one-minute bars (525,600), three ways in
the same run on the same bars:

- before: the grid as it was before issue 23 (bench/grid_before.py): chunks of at most 40
  combinations, each job carrying the bars, indicators per chunk, the equity built bar by bar;
- now: what `optimizeBacktest` does once its candles are loaded: the bars written once for the
  workers to map (grid_backtest.BarsFile), chunks through the fair RunQueue, each combination
  costing its signals, trade searches and analytics/metrics.py, then the winner in full;
- the engine: the same combinations one by one through run_backtest (what runBacktest runs),
  whose metrics every row of `now` must equal exactly.

Both grids run on one warm pool of `--workers` processes, alternately, best of `--repeats`.
CPU is this process's plus what each worker reports for its chunks (so a busy machine's
other load does not count against either side)."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from bench import grid_before
from bench.analytics import year_of_bars
from tradegraph.analytics.backtest_engine import Bars, StrategyKind, run_backtest
from tradegraph.analytics.grid_backtest import BarsFile, GridJob, Row, run_grid_chunk
from tradegraph.analytics.optimization import OptimizationMetric, chunks, ranked
from tradegraph.analytics.optimization_runs import metrics_of
from tradegraph.analytics.parameter_grid import ParameterRange, grid, strategy_of
from tradegraph.analytics.run_queue import RunQueue
from tradegraph.analytics.worker_pool import WorkerPool

SMA = StrategyKind.SMA_CROSSOVER
RANGES = [ParameterRange("fast", 5, 50, 5), ParameterRange("slow", 60, 555, 5)]  # 10 x 100
CASH, FEE_BPS, BAR_SECONDS = 10_000.0, 5.0, 60


@dataclass
class Timing:
    wall: float
    cpu: float  # this process and the workers, user + system


WORKER_CPU: list[float] = []  # CPU seconds the workers spent on the chunks, as they report


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + sum(WORKER_CPU)


def timed(work_and_job: tuple[Callable[[Any], list[Row]], Any]) -> tuple[float, list[Row]]:
    """In a worker: the chunk's rows and the CPU seconds they took there."""
    work, job = work_and_job
    started = time.process_time()
    rows = work(job)
    return time.process_time() - started, rows


def _counted(result: tuple[float, list[Row]]) -> list[Row]:
    WORKER_CPU.append(result[0])
    return result[1]


async def grid_before_issue_23(pool: WorkerPool, bars: Bars, combos: list) -> list[Row]:
    jobs = [  # its consecutive chunks, as it was
        grid_before.GridJob(
            bars.times, bars.opens, bars.closes, SMA, part, CASH, FEE_BPS, BAR_SECONDS
        )
        for part in grid_before.chunks(combos, pool.workers)
    ]
    parts = await asyncio.gather(
        *(pool.run(timed, (grid_before.run_grid_chunk, job)) for job in jobs)
    )
    return _winner(bars, [row for part in parts for row in _counted(part)])


async def grid_now(queue: RunQueue, bars: Bars, combos: list) -> list[Row]:
    bars_file = BarsFile(bars)
    try:
        n = len(bars.closes)
        tiles = chunks(combos, queue.pool.workers)
        jobs = [
            GridJob(bars_file.path, 0, n, SMA, [combos[i] for i in tile], CASH, FEE_BPS, 60)
            for tile in tiles
        ]
        parts = await asyncio.gather(
            *(queue.run_chunk("bench", timed, (run_grid_chunk, job)) for job in jobs)
        )
    finally:
        bars_file.remove()
    rows: list[Row] = [{}] * len(combos)
    for tile, part in zip(tiles, parts, strict=True):
        for index, row in zip(tile, _counted(part), strict=True):
            rows[index] = row
    return _winner(bars, rows)


def _winner(bars: Bars, rows: list[Row]) -> list[Row]:
    best = ranked(rows, OptimizationMetric.SHARPE)[0]
    run_backtest(bars, strategy_of(SMA, best["parameters"]), CASH, FEE_BPS, BAR_SECONDS)
    return rows


async def compare(
    bars: Bars, combos: list, workers: int, repeats: int
) -> tuple[Timing, Timing, list[Row], list[Row]]:
    pool = WorkerPool(workers)
    queue = RunQueue(pool, runs_per_user=2, queued_per_user=10)
    warm = grid_before.GridJob(
        bars.times[:50], bars.opens[:50], bars.closes[:50], SMA, [], 1, 0, 60
    )
    await asyncio.gather(*(pool.run(grid_before.run_grid_chunk, warm) for _ in range(workers)))
    paths: list[tuple[Callable[[], Awaitable[list[Row]]], list[float], list[float]]] = [
        (lambda: grid_before_issue_23(pool, bars, combos), [], []),
        (lambda: grid_now(queue, bars, combos), [], []),
    ]
    results: list[list[Row]] = [[], []]
    try:
        for _ in range(repeats):  # alternately: the machine's load falls on both
            for index, (path, walls, cpus) in enumerate(paths):
                started, cpu = time.perf_counter(), _cpu()
                results[index] = await path()
                walls.append(time.perf_counter() - started)
                cpus.append(_cpu() - cpu)
    finally:
        await pool.close()
    (_, before_walls, before_cpus), (_, now_walls, now_cpus) = paths
    before = Timing(min(before_walls), min(before_cpus))
    now = Timing(min(now_walls), min(now_cpus))
    return before, now, results[0], results[1]


def engine_rows(bars: Bars, combos: list) -> tuple[Timing, list[dict]]:
    started, cpu = time.perf_counter(), _cpu()
    metrics = [
        metrics_of(run_backtest(bars, strategy_of(SMA, params), CASH, FEE_BPS, BAR_SECONDS))
        for params in tqdm(combos, desc="engine, one by one", file=sys.stderr, leave=False)
    ]
    return Timing(time.perf_counter() - started, _cpu() - cpu), metrics


def main(workers: int | None, repeats: int = 2) -> None:
    workers = workers or os.cpu_count() or 1
    frame = year_of_bars()
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    combos = grid(SMA, RANGES, None)
    load_before = os.getloadavg()
    before, now, old_rows, rows = asyncio.run(compare(bars, combos, workers, repeats))
    engine, expected = engine_rows(bars, combos)
    load_after = os.getloadavg()
    assert len(rows) == len(combos) == 1000
    differing = [row for row, same in zip(rows, expected, strict=True) if row["metrics"] != same]
    assert not differing, f"{len(differing)} combinations differ from the engine's metrics"
    for old, new in zip(old_rows, rows, strict=True):  # and the old grid agreed, to rounding
        assert abs(old["metrics"]["sharpe"] - new["metrics"]["sharpe"]) < 1e-6 * abs(
            new["metrics"]["sharpe"]
        )
    best = ranked(rows, OptimizationMetric.SHARPE)[0]
    print(f"\n{len(bars.closes):,} one-minute bars; SMA_CROSSOVER grid of {len(combos):,}")
    print(
        f"cores: {os.cpu_count()}, workers: {workers}; load average before "
        f"{load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    print(f"{'':<46}{'wall s':>10}{'combos/s':>10}{'CPU s':>10}")
    for name, timing in (
        (f"grid before issue 23, best of {repeats}", before),
        (f"grid now, best of {repeats}", now),
        ("engine one by one (run_backtest)", engine),
    ):
        rate = len(combos) / timing.wall
        print(f"{name:<46}{timing.wall:>10.2f}{rate:>10.1f}{timing.cpu:>10.2f}")
    print(
        f"now vs before: wall {before.wall / now.wall:.1f}x, CPU {before.cpu / now.cpu:.1f}x; "
        f"every combination's metrics equal the engine's; winner {best['parameters']} "
        f"(sharpe {best['metrics']['sharpe']:.3f})"
    )
