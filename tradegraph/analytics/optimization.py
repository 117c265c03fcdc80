"""Parameter optimisation, pure: the metric to maximise, ranking, the heatmap of a metric over
two parameters, and how a grid is cut into chunks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from tradegraph.analytics.grid_backtest import Row
from tradegraph.errors import InvalidInput


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


def score(row: Row, metric: OptimizationMetric) -> float | None:
    value = row["metrics"].get(metric.key)
    return value if value is not None and math.isfinite(value) else None


def ranked(rows: list[Row], metric: OptimizationMetric) -> list[Row]:
    """Best first; rows without a value for the metric last; ties keep the grid's order."""
    scored = [(score(row, metric), index, row) for index, row in enumerate(rows)]
    scored.sort(key=lambda item: (item[0] is None, -(item[0] or 0.0), item[1]))
    return [row for _, _, row in scored]


@dataclass
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


def chunks(combinations: list[dict[str, float]], workers: int) -> list[list[int]]:
    """The combinations' indexes in chunks: at least eight per worker (progress and balance)
    of at most MAX_CHUNK, each a tile of the grid that spans few values of every parameter, so
    that a chunk computes few indicator windows (SMA(fast) and SMA(slow) serve many pairs)."""
    count = max(
        1, min(len(combinations), max(workers * 8, math.ceil(len(combinations) / MAX_CHUNK)))
    )
    size = math.ceil(len(combinations) / count)
    order = _tiled(combinations, size)
    return [order[i : i + size] for i in range(0, len(order), size)]


def _tiled(combinations: list[dict[str, float]], size: int) -> list[int]:
    """Grid order, except that the parameter with the most values varies slowest, in groups
    of as few of its values as fill a chunk with every value of the others."""
    if not combinations:
        return []
    values = {name: sorted({c[name] for c in combinations}) for name in combinations[0]}
    widest = max(values, key=lambda name: len(values[name]))
    rank = {value: i for i, value in enumerate(values[widest])}
    group = max(1, math.ceil(size * len(rank) / len(combinations)))
    return sorted(
        range(len(combinations)), key=lambda i: (rank[combinations[i][widest]] // group, i)
    )


class StoredRows:
    """An optimisation's rows as read once for one operation: each ranking and heatmap is
    computed once however many fields (aliases) ask for it."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self._ranked: dict[OptimizationMetric, list[Row]] = {}
        self._heatmaps: dict[tuple[str, str, OptimizationMetric], Heatmap] = {}

    def ranked(self, metric: OptimizationMetric) -> list[Row]:
        if metric not in self._ranked:
            self._ranked[metric] = ranked(self.rows, metric)
        return self._ranked[metric]

    def heatmap(self, x: str, y: str, metric: OptimizationMetric) -> Heatmap:
        """As heatmap(); empty while there are no rows (until COMPLETED)."""
        key = (x, y, metric)
        if key not in self._heatmaps:
            empty = Heatmap(x, y, metric, [], [], [])
            self._heatmaps[key] = heatmap(self.rows, x, y, metric) if self.rows else empty
        return self._heatmaps[key]
