"""A 1,000-combination SMA_CROSSOVER grid on a year of one-minute bars (525,600): the
optimisation path (metrics-only grid backtests sharing indicators, chunks across a process
pool, then the winner's full backtest) against the same combinations run one by one through
run_backtest, the single-backtest engine, in the same run. Both start from bars in memory
(the candle load, once per optimisation, is left out of both)."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from bench.analytics import year_of_bars
from tradegraph.analytics.backtest_engine import Bars, StrategyKind, run_backtest
from tradegraph.analytics.optimization import (
    GridJob,
    OptimizationMetric,
    chunks,
    ranked,
    run_grid_chunk,
)
from tradegraph.analytics.parameter_grid import ParameterRange, grid, strategy_of
from tradegraph.analytics.worker_pool import WorkerPool

SMA = StrategyKind.SMA_CROSSOVER
RANGES = [ParameterRange("fast", 5, 50, 5), ParameterRange("slow", 60, 555, 5)]  # 10 x 100


@dataclass
class Timing:
    wall: float
    cpu: float  # this process and the workers, user + system


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # counted once they are reaped
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


async def optimise(
    bars: Bars, combos: list[dict[str, float]], workers: int, repeats: int
) -> tuple[Timing, dict]:
    """Best wall time of `repeats` grids on one warm pool; CPU seconds per grid."""
    pool = WorkerPool(workers)
    warm = GridJob(*_arrays(bars), SMA, combos[:1], 10_000, 5, 60)
    cpu_before = _cpu()
    await asyncio.gather(*(pool.run(run_grid_chunk, warm) for _ in range(workers)))
    walls = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()  # the workers are up (spawned once per server)
            jobs = [
                GridJob(*_arrays(bars), SMA, part, 10_000, 5, 60)
                for part in chunks(combos, workers)
            ]
            parts = await asyncio.gather(*(pool.run(run_grid_chunk, job) for job in jobs))
            rows = [row for part in parts for row in part]
            best = ranked(rows, OptimizationMetric.SHARPE)[0]
            await asyncio.to_thread(
                run_backtest, bars, strategy_of(SMA, best["parameters"]), 10_000, 5, 60
            )
            walls.append(time.perf_counter() - started)
    finally:
        await pool.close()
    cpu = (_cpu() - cpu_before) / repeats  # includes starting the workers: counts against us
    return Timing(min(walls), cpu), {"rows": rows, "best": best}


def _arrays(bars: Bars) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return bars.times, bars.opens, bars.closes


def one_by_one(bars: Bars, combos: list[dict[str, float]]) -> tuple[Timing, list[float | None]]:
    started, cpu_before = time.perf_counter(), _cpu()
    sharpes = []
    for params in tqdm(combos, desc="one by one", file=sys.stderr, leave=False):
        sharpes.append(run_backtest(bars, strategy_of(SMA, params), 10_000, 5, 60).sharpe)
    return Timing(time.perf_counter() - started, _cpu() - cpu_before), sharpes


def main(workers: int | None, repeats: int = 2) -> None:
    workers = workers or os.cpu_count() or 1
    frame = year_of_bars()
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    combos = grid(SMA, RANGES, None)
    load_before = os.getloadavg()
    grid_t, found = asyncio.run(optimise(bars, combos, workers, repeats))
    single_t, sharpes = one_by_one(bars, combos)
    load_after = os.getloadavg()
    rows = found["rows"]
    assert len(rows) == len(combos) == 1000
    for row, sharpe in zip(rows, sharpes, strict=True):  # the same answers, combination by one
        assert sharpe is not None
        assert abs(row["metrics"]["sharpe"] - sharpe) < 1e-9 * abs(sharpe)
    best_single = combos[int(np.argmax(sharpes))]
    assert found["best"]["parameters"] == best_single, "the two paths disagree on the winner"
    print(f"\n{len(bars.closes):,} one-minute bars; SMA_CROSSOVER grid of {len(combos):,}")
    print(
        f"cores: {os.cpu_count()}, workers: {workers}; load average before "
        f"{load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    print(f"{'':<40}{'wall s':>10}{'combos/s':>10}{'CPU s':>10}")
    for name, timing in (
        ("one by one: run_backtest", single_t),
        (f"optimisation: grid, {workers} workers, best of {repeats}", grid_t),
    ):
        print(
            f"{name:<40}{timing.wall:>10.2f}{len(combos) / timing.wall:>10.1f}{timing.cpu:>10.2f}"
        )
    print(
        f"speed-up: wall {single_t.wall / grid_t.wall:.1f}x, CPU {single_t.cpu / grid_t.cpu:.1f}x; "
        f"winner {found['best']['parameters']} (sharpe {found['best']['metrics']['sharpe']:.3f})"
    )
