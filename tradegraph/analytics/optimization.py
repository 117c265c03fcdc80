"""Parameter optimisation, pure: the metric to maximise, a chunk of the grid evaluated in one
worker process, ranking, and the heatmap of a metric over two parameters."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from tradegraph.analytics.backtest_engine import Bars, StrategyKind
from tradegraph.analytics.grid_backtest import IndicatorCache, evaluate
from tradegraph.analytics.parameter_grid import strategy_of
from tradegraph.errors import InvalidInput

Row = dict[str, Any]  # {"parameters": {name: value}, "metrics": {metric: value}}


class OptimizationMetric(StrEnum):
    SHARPE = "SHARPE"
    SORTINO = "SORTINO"
    CALMAR = "CALMAR"
    TOTAL_RETURN = "TOTAL_RETURN"
    SQN = "SQN"
    PROFIT_FACTOR = "PROFIT_FACTOR"

    @property
    def key(self) -> str:
        """The field of Metrics it reads."""
        return self.value.lower()


@dataclass(frozen=True)
class GridJob:
    """What one worker needs: the bars (sent once per chunk) and its combinations."""

    times: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    kind: StrategyKind
    combinations: list[dict[str, float]]
    initial_cash: float
    fee_bps: float
    bar_seconds: int


def run_grid_chunk(job: GridJob) -> list[Row]:
    """Evaluates every combination of the job (in a worker process): one row each, in order.
    Indicators are shared between the job's combinations."""
    bars = Bars(job.times, job.opens, job.closes)
    cache = IndicatorCache(job.closes)
    rows = []
    for params in job.combinations:
        strategy = strategy_of(job.kind, params).checked()
        metrics = evaluate(bars, strategy, cache, job.initial_cash, job.fee_bps, job.bar_seconds)
        rows.append({"parameters": params, "metrics": asdict(metrics)})
    return rows


def score(row: Row, metric: OptimizationMetric) -> float | None:
    value = row["metrics"].get(metric.key)
    return value if value is not None and math.isfinite(value) else None


def ranked(rows: list[Row], metric: OptimizationMetric) -> list[Row]:
    """Best first; rows without a value for the metric last; ties keep the grid's order."""
    scored = [(score(row, metric), index, row) for index, row in enumerate(rows)]
    scored.sort(key=lambda item: (item[0] is None, -(item[0] or 0.0), item[1]))
    return [row for _, _, row in scored]


@dataclass(frozen=True)
class Heatmap:
    x: str
    y: str
    metric: OptimizationMetric
    x_values: list[float]
    y_values: list[float]
    values: list[list[float | None]]  # values[j][i] at (x_values[i], y_values[j])


def heatmap(rows: list[Row], x: str, y: str, metric: OptimizationMetric) -> Heatmap:
    """The metric over two optimised parameters; where other parameters vary too, each cell
    holds the best value among the rows at that (x, y); null where no row has a value."""
    names = set(rows[0]["parameters"]) if rows else set()
    for axis, name in (("x", x), ("y", y)):
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise InvalidInput(
                f"heatmap {axis}: {name!r} is not an optimised parameter ({known})", field=axis
            )
    if x == y:
        raise InvalidInput("heatmap x and y must be different parameters", field="y")
    xs = sorted({row["parameters"][x] for row in rows})
    ys = sorted({row["parameters"][y] for row in rows})
    column = {value: i for i, value in enumerate(xs)}
    line = {value: j for j, value in enumerate(ys)}
    cells: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    for row in rows:
        value = score(row, metric)
        if value is None:
            continue
        j, i = line[row["parameters"][y]], column[row["parameters"][x]]
        current = cells[j][i]
        cells[j][i] = value if current is None else max(current, value)
    return Heatmap(x, y, metric, xs, ys, cells)


MAX_CHUNK = 40  # combinations per job: bounds how long shutting the pool down waits


def chunks(combinations: list[dict[str, float]], workers: int) -> list[list[dict[str, float]]]:
    """At least eight chunks per worker (progress and balance) of at most MAX_CHUNK
    combinations, consecutive so that neighbours sharing an indicator window land together."""
    count = max(
        1, min(len(combinations), max(workers * 8, math.ceil(len(combinations) / MAX_CHUNK)))
    )
    size = math.ceil(len(combinations) / count)
    return [combinations[i : i + size] for i in range(0, len(combinations), size)]
