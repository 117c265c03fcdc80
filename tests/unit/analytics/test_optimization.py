"""The pure parts of optimisation: the parameter grid and its limit, the metrics-only grid
backtest against run_backtest, ranking, the heatmap, and walk-forward splitting."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from tradegraph.analytics import walk_forward
from tradegraph.analytics.backtest_engine import Bars, StrategyKind, run_backtest
from tradegraph.analytics.grid_backtest import BarsFile, GridJob, run_grid_chunk
from tradegraph.analytics.optimization import (
    MAX_CHUNK,
    OptimizationMetric,
    StoredRows,
    chunks,
    heatmap,
    ranked,
)
from tradegraph.analytics.optimization_runs import metrics_of
from tradegraph.analytics.parameter_grid import (
    MAX_COMBINATIONS,
    ParameterRange,
    count_combinations,
    grid,
    strategy_of,
)
from tradegraph.errors import InvalidInput

SMA = StrategyKind.SMA_CROSSOVER


def bars_of(n: int, seed: int = 4) -> Bars:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opens = np.concatenate(([100.0], closes[:-1])) * np.exp(rng.normal(0, 0.002, n))
    return Bars(np.arange(n, dtype=np.int64) * 60, opens, closes)


def test_a_grid_over_the_limit_is_refused_by_its_size_naming_the_count() -> None:
    huge = [ParameterRange("fast", 1, 10**10, 1), ParameterRange("slow", 1, 10**10, 1)]
    with pytest.raises(InvalidInput) as refused:
        grid(SMA, huge, None)  # 10^20 points: refused before any is built
    assert "100,000,000,000,000,000,000 combinations" in refused.value.message
    assert refused.value.details["combinations"] == 10**20
    at_limit = [ParameterRange("fast", 1, 100, 1), ParameterRange("slow", 1, 100, 1)]
    assert count_combinations(SMA, at_limit) == MAX_COMBINATIONS
    with pytest.raises(InvalidInput, match="10,100 combinations"):
        count_combinations(SMA, [*at_limit[:1], ParameterRange("slow", 1, 101, 1)])


@pytest.mark.parametrize(
    ("ranges", "says"),
    [
        ([ParameterRange("upper", 1, 2, 1)], "SMA_CROSSOVER has no parameter 'upper'"),
        ([ParameterRange("fast", 1.5, 3, 1)], "fast takes whole numbers"),
        ([ParameterRange("fast", 5, 1, 1)], "stop >= start"),
        ([ParameterRange("fast", 1, 5, 0)], "step > 0"),
        ([ParameterRange("fast", 1, float("inf"), 1)], "finite"),
        ([ParameterRange("fast", 1, 2, 1), ParameterRange("fast", 3, 4, 1)], "one range"),
        ([], "at least one"),
        ([ParameterRange("fast", -1.7e308, 1.7e308, 1e300)], "fast: the range .* cannot be"),
    ],
)
def test_bad_ranges_are_refused(ranges: list[ParameterRange], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        count_combinations(SMA, ranges)


def test_the_grid_keeps_combinations_the_constraint_and_the_strategy_accept() -> None:
    ranges = [ParameterRange("fast", 5, 15, 5), ParameterRange("slow", 10, 20, 5)]
    combos = grid(SMA, ranges, None)  # SMA's own rule: fast < slow
    assert combos == [
        {"fast": 5, "slow": 10},
        {"fast": 5, "slow": 15},
        {"fast": 5, "slow": 20},
        {"fast": 10, "slow": 15},
        {"fast": 10, "slow": 20},
        {"fast": 15, "slow": 20},
    ]
    assert grid(SMA, ranges, "fast * 2 <= slow") == [combos[0], combos[1], combos[2], combos[4]]
    stops = grid(SMA, [ParameterRange("stopLossPct", 0.5, 1.5, 0.5)], None)
    assert stops == [{"stopLossPct": 0.5}, {"stopLossPct": 1.0}, {"stopLossPct": 1.5}]


CASES = [
    (StrategyKind.SMA_CROSSOVER, {"fast": 3, "slow": 15}),
    (StrategyKind.SMA_CROSSOVER, {"fast": 2, "slow": 9, "stopLossPct": 1, "takeProfitPct": 2}),
    (StrategyKind.SMA_CROSSOVER, {"fast": 50, "slow": 5000}),  # never defined: no trades
    (StrategyKind.MACD_SIGNAL, {"fast": 5, "slow": 12, "period": 4}),
    (StrategyKind.RSI_REVERSION, {"period": 7, "lower": 40, "upper": 55}),
    (StrategyKind.BOLLINGER_REVERSION, {"period": 12, "takeProfitPct": 1.5}),
]


def grid_rows(bars: Bars, kind: StrategyKind, combos: list[dict], cash: float, fee: float) -> list:
    """The rows a worker computes for `combos`, its bars mapped from a BarsFile."""
    bars_file = BarsFile(bars)
    try:
        job = GridJob(bars_file.path, 0, len(bars.closes), kind, combos, cash, fee, 60)
        return run_grid_chunk(job)
    finally:
        bars_file.remove()


@pytest.mark.parametrize(("kind", "params"), CASES)
@pytest.mark.parametrize("seed", [4, 5])
def test_grid_metrics_are_the_single_backtests_exactly(
    kind: StrategyKind, params: dict, seed: int
) -> None:
    bars = bars_of(1500, seed)
    (row,) = grid_rows(bars, kind, [params], 5000, 7)
    result = run_backtest(bars, strategy_of(kind, params).checked(), 5000, 7, 60)
    assert row["metrics"] == metrics_of(result)  # one metrics function: equal, not close


def test_a_chunk_evaluates_its_combinations_in_order_on_a_part_of_its_bars() -> None:
    bars = bars_of(800)
    combos = grid(SMA, [ParameterRange("fast", 2, 6, 2), ParameterRange("slow", 8, 20, 6)], None)
    bars_file = BarsFile(bars)
    try:
        rows = run_grid_chunk(GridJob(bars_file.path, 100, 700, SMA, combos, 1000, 0, 60))
    finally:
        bars_file.remove()
    assert [row["parameters"] for row in rows] == combos
    part = walk_forward.part(bars, 100, 700)
    for row in rows:
        single = run_backtest(part, strategy_of(SMA, row["parameters"]), 1000, 0, 60)
        assert row["metrics"] == metrics_of(single)


def test_stored_rows_rank_and_draw_each_heatmap_once() -> None:
    stored = StoredRows(rows_of([0.5, 2.0, -1.0, 1.0]))
    first = stored.ranked(OptimizationMetric.SHARPE)
    assert stored.ranked(OptimizationMetric.SHARPE) is first
    drawn = stored.heatmap("fast", "slow", OptimizationMetric.SHARPE)
    assert stored.heatmap("fast", "slow", OptimizationMetric.SHARPE) is drawn
    assert StoredRows([]).heatmap("fast", "slow", OptimizationMetric.SHARPE).values == []


def rows_of(scores: list[float | None]) -> list[dict]:
    return [
        {"parameters": {"fast": i, "slow": 10 + i % 2}, "metrics": {"sharpe": s}}
        for i, s in enumerate(scores)
    ]


def test_ranking_puts_the_best_first_and_rows_without_a_value_last() -> None:
    rows = rows_of([0.5, None, 2.0, float("nan"), 2.0, -1.0])
    order = [row["parameters"]["fast"] for row in ranked(rows, OptimizationMetric.SHARPE)]
    assert order == [2, 4, 0, 5, 1, 3]  # ties keep the grid's order


def test_the_heatmap_keeps_the_best_value_per_cell() -> None:
    rows: list[dict[str, dict[str, int | None]]] = [
        {"parameters": {"fast": f, "slow": s, "period": p}, "metrics": {"sharpe": f * s + p}}
        for f in (1, 2)
        for s in (10, 20, 30)
        for p in (0, 5)
    ]
    rows[0]["metrics"]["sharpe"] = None
    found = heatmap(rows, "fast", "slow", OptimizationMetric.SHARPE)
    assert (found.x_values, found.y_values) == ([1, 2], [10, 20, 30])
    assert found.values == [[15, 25], [25, 45], [35, 65]]
    with pytest.raises(InvalidInput, match="'upper' is not an optimised parameter"):
        heatmap(rows, "upper", "slow", OptimizationMetric.SHARPE)
    with pytest.raises(InvalidInput, match="different"):
        heatmap(rows, "slow", "slow", OptimizationMetric.SHARPE)


@pytest.mark.parametrize(("n", "folds", "fraction"), [(1000, 4, 0.75), (997, 3, 0.5), (50, 1, 0.2)])
def test_walk_forward_test_parts_tile_the_range_after_the_first_train_part(
    n: int, folds: int, fraction: float
) -> None:
    splits = walk_forward.splits(n, folds, fraction)
    assert len(splits) == folds
    assert splits[0].train_start == 0
    assert splits[-1].test_stop == n
    for before, after in pairwise(splits):
        assert after.train_stop == before.test_stop  # no gap, no overlap
    train = splits[0].train_stop
    for split in splits:
        assert split.train_stop - split.train_start == train  # rolling, equal length
        assert split.train_start >= 0
    window = n / (fraction + folds * (1 - fraction))
    assert train == round(window * fraction)
    tests = [s.test_stop - s.train_stop for s in splits]
    assert max(tests[:-1], default=tests[-1]) <= tests[-1] < tests[0] + folds


def test_walk_forward_refuses_parts_too_small_and_bad_settings() -> None:
    with pytest.raises(InvalidInput, match="too few"):
        walk_forward.splits(10, 5, 0.9)
    with pytest.raises(InvalidInput, match="folds"):
        walk_forward.splits(1000, 0, 0.5)
    with pytest.raises(InvalidInput, match="trainFraction"):
        walk_forward.splits(1000, 2, 1.0)


@pytest.mark.parametrize(("count", "workers"), [(1, 4), (7, 2), (1000, 2), (10_000, 16)])
def test_chunks_cover_the_grid_once_and_stay_short(count: int, workers: int) -> None:
    combos = [{"fast": float(i)} for i in range(count)]
    parts = chunks(combos, workers)
    assert sorted(index for part in parts for index in part) == list(range(count))
    assert all(0 < len(part) <= MAX_CHUNK for part in parts)  # bounds a shutdown's wait
    assert len(parts) >= min(count, workers * 8)  # enough to balance and report progress


def test_a_chunk_spans_few_windows_of_a_wide_grid() -> None:
    combos = grid(SMA, [ParameterRange("fast", 5, 50, 5), ParameterRange("slow", 60, 555, 5)], None)
    parts = chunks(combos, 2)
    assert sorted(index for part in parts for index in part) == list(range(len(combos)))
    for part in parts:  # 4 slow windows x 10 fast ones, not 1 fast x 40 slow
        windows = {combos[i]["fast"] for i in part} | {-combos[i]["slow"] for i in part}
        assert len(windows) <= 14
