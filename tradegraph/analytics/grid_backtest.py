"""Many backtests of one strategy kind on the same bars, metrics only: what an optimisation
needs per combination, evaluated in a worker process.

The bars reach a worker once per run, not with every chunk: the run writes them to a file
(`BarsFile`) and each worker maps it and keeps it, with its running sums, its close returns'
prefix sums and the indicators it computed, for the run's next chunks. Each combination then
costs its signals (a comparison of two cached arrays), integer searches for its trades and
analytics/metrics.py's statistics, which read only the bars its positions are held on."""

from __future__ import annotations

import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradegraph.analytics.metrics import Bars, performance
from tradegraph.analytics.parameter_grid import strategy_of
from tradegraph.analytics.signals import IndicatorCache, signals
from tradegraph.analytics.strategy import StrategyKind
from tradegraph.analytics.trade_finder import find_trades

Row = dict[str, Any]  # {"parameters": {name: value}, "metrics": {metric: value}}
KEPT_BARS = 2  # bar sets a worker keeps mapped (a run's range, or one walk-forward part)
KEPT_INDICATORS = 16  # indicator arrays kept per bar set (8 bytes a bar each): one chunk's


class BarsFile:
    """A run's bars on disk, for the workers to map; `remove()` when the run is over."""

    def __init__(self, bars: Bars) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="tradegraph-bars-"))
        for name in ("times", "opens", "closes"):
            np.save(self.directory / f"{name}.npy", getattr(bars, name))

    @property
    def path(self) -> str:
        return str(self.directory)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(frozen=True)
class GridJob:
    """One chunk: combinations to evaluate on bars [start, stop) of a BarsFile."""

    bars_path: str
    start: int
    stop: int
    kind: StrategyKind
    combinations: list[dict[str, float]]
    initial_cash: float
    fee_bps: float
    bar_seconds: int


_kept: OrderedDict[tuple[str, int, int], tuple[Bars, IndicatorCache]] = OrderedDict()


def _bars_of(job: GridJob) -> tuple[Bars, IndicatorCache]:
    """The job's bars and indicator cache, mapped on first use in this worker process."""
    key = (job.bars_path, job.start, job.stop)
    if key in _kept:
        _kept.move_to_end(key)
    else:
        arrays = [
            np.load(Path(job.bars_path) / f"{name}.npy", mmap_mode="r")[job.start : job.stop]
            for name in ("times", "opens", "closes")
        ]
        bars = Bars(*(np.ascontiguousarray(array) for array in arrays))
        _kept[key] = (bars, IndicatorCache(bars.closes))
        while len(_kept) > KEPT_BARS:
            _kept.popitem(last=False)
    bars, cache = _kept[key]
    if len(cache.arrays) > KEPT_INDICATORS:  # keep the running sums every SMA comes from
        cache.arrays = {key: value for key, value in cache.arrays.items() if key == ("sums",)}
    return bars, cache


def run_grid_chunk(job: GridJob) -> list[Row]:
    """Evaluates every combination of the job: one row each, in order."""
    bars, cache = _bars_of(job)
    fee = job.fee_bps / 10_000
    rows = []
    for params in job.combinations:
        strategy = strategy_of(job.kind, params).checked()
        entries, exits = signals(strategy, cache)
        trades = find_trades(strategy, bars.closes, bars.opens, entries, exits)
        found = performance(bars, trades, job.initial_cash, fee, job.bar_seconds)
        rows.append({"parameters": params, "metrics": dict(vars(found.metrics))})
    return rows
