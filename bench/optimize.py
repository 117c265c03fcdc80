"""A 1,000-combination SMA_CROSSOVER grid on a year of one-minute bars (525,600): the
optimisation path (metrics-only grid backtests sharing indicators, chunks across a process
pool, then the winner's full backtest) against the same combinations run one by one through
run_backtest, the single-backtest engine, in the same run. Both start from bars in memory
(the candle load, once per optimisation, is left out of both)."""

from __future__ import annotations

import asyncio
import os
import sys
import time

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


async def optimise(bars: Bars, combos: list[dict[str, float]], workers: int) -> tuple[float, dict]:
    pool = WorkerPool(workers)
    try:
        await pool.run(run_grid_chunk, GridJob(*_arrays(bars), SMA, combos[:1], 10_000, 5, 60))
        started = time.perf_counter()  # the workers are up (spawned once per server)
        jobs = [
            GridJob(*_arrays(bars), SMA, part, 10_000, 5, 60) for part in chunks(combos, workers)
        ]
        parts = await asyncio.gather(*(pool.run(run_grid_chunk, job) for job in jobs))
        rows = [row for part in parts for row in part]
        best = ranked(rows, OptimizationMetric.SHARPE)[0]
        await asyncio.to_thread(
            run_backtest, bars, strategy_of(SMA, best["parameters"]), 10_000, 5, 60
        )
        return time.perf_counter() - started, {"rows": rows, "best": best}
    finally:
        await pool.close()


def _arrays(bars: Bars) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return bars.times, bars.opens, bars.closes


def one_by_one(bars: Bars, combos: list[dict[str, float]]) -> tuple[float, list[float | None]]:
    started = time.perf_counter()
    sharpes = []
    for params in tqdm(combos, desc="one by one", file=sys.stderr, leave=False):
        sharpes.append(run_backtest(bars, strategy_of(SMA, params), 10_000, 5, 60).sharpe)
    return time.perf_counter() - started, sharpes


def main(workers: int | None) -> None:
    workers = workers or os.cpu_count() or 1
    frame = year_of_bars()
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    combos = grid(SMA, RANGES, None)
    load_before = os.getloadavg()
    grid_s, found = asyncio.run(optimise(bars, combos, workers))
    single_s, sharpes = one_by_one(bars, combos)
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
    print(f"{'':<40}{'seconds':>10}{'combos/s':>12}")
    for name, seconds in (
        ("one by one: run_backtest", single_s),
        (f"optimisation: grid over {workers} workers", grid_s),
    ):
        print(f"{name:<40}{seconds:>10.2f}{len(combos) / seconds:>12.1f}")
    print(
        f"speed-up: {single_s / grid_s:.1f}x; winner {found['best']['parameters']} "
        f"(sharpe {found['best']['metrics']['sharpe']:.3f})"
    )
