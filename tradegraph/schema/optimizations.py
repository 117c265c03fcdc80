"""GraphQL types and inputs for parameter optimisation and walk-forward analysis."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from tradegraph import decimals, documents
from tradegraph.analytics import metrics, optimization, optimization_runs, parameter_grid
from tradegraph.analytics.backtest_engine import StrategyKind
from tradegraph.analytics.metrics import METRIC_NAMES
from tradegraph.errors import InvalidInput
from tradegraph.schema.backtests import BacktestResult, EquityCurvePoint
from tradegraph.schema.core.connection import Connection
from tradegraph.schema.core.context import Info
from tradegraph.schema.markets import scales_of
from tradegraph.schema.research_runs import (
    ResearchRun,
    RunMarketInput,
    relay_connection,
    run_fields,
)

strawberry.enum(
    optimization.OptimizationMetric,
    name="OptimizationMetric",
    description="What an optimisation maximises, as defined on BacktestResult: SHARPE, "
    "SORTINO, CALMAR, TOTAL_RETURN, SQN, PROFIT_FACTOR. A combination without a value (e.g. "
    "no losing trade for PROFIT_FACTOR) ranks last.",
)
OptimizationMetric = optimization.OptimizationMetric


@strawberry.input(
    description="Values start, start + step, … up to and including stop, of one numeric "
    "parameter of the strategy kind (fast, slow, period, lower, upper, stopLossPct, "
    "takeProfitPct as the kind uses them; fast, slow and period take whole numbers)."
)
class ParameterRange:
    name: str
    start: float
    stop: float
    step: float

    def to_value(self) -> parameter_grid.ParameterRange:
        return parameter_grid.ParameterRange(self.name, self.start, self.stop, self.step)


@strawberry.input(
    description="Rolling windows over the range, each an in-sample part (trainFraction of "
    "the window) followed by an out-of-sample part; the out-of-sample parts tile the range "
    "after the first in-sample part. Each fold optimises on its in-sample bars and runs the "
    "winner on its out-of-sample bars, starting from the previous fold's final equity "
    "(indicators warm up inside each part)."
)
class WalkForwardInput:
    folds: int = strawberry.field(description="1 to 20.")
    train_fraction: float = strawberry.field(description="Between 0 and 1, exclusive.")


@strawberry.input(
    description="The market, cash and fee fields of BacktestInput, a strategy kind, and the "
    "grid: the product of the parameter ranges (at most 10,000 combinations), keeping the "
    "combinations that satisfy `constraint` and the strategy's rules (e.g. SMA fast < slow). "
    "Parameters without a range keep the kind's defaults."
)
class OptimizeInput(RunMarketInput):
    kind: StrategyKind
    parameters: list[ParameterRange]
    maximize: OptimizationMetric
    constraint: str | None = strawberry.field(
        default=None,
        description="Comparisons of optimised parameters joined by `and`, e.g. `fast < slow`, "
        "`fast * 2 <= slow and slow < 200`: operators < <= > >= == !=, arithmetic + - * / and "
        "parentheses, numbers, parameter names.",
    )
    walk_forward: WalkForwardInput | None = None

    def to_request(self) -> optimization_runs.OptimizationRequest:
        wf = self.walk_forward
        return optimization_runs.OptimizationRequest(
            symbol=self.symbol,
            interval=documents.CandleInterval(self.interval.value),
            from_=self.from_,
            to=self.to,
            initial_cash=float(self.initial_cash),
            fee_bps=self.fee_bps,
            kind=StrategyKind(self.kind.value),
            parameters=[r.to_value() for r in self.parameters],
            maximize=OptimizationMetric(self.maximize.value),
            constraint=self.constraint,
            walk_forward=optimization_runs.WalkForward(wf.folds, wf.train_fraction) if wf else None,
        )


@strawberry.type(description="Metrics of one backtest, as defined on BacktestResult.")
class OptimizationMetrics(metrics.Metrics):  # the fields: analytics/metrics.py's one list
    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> OptimizationMetrics:
        return cls(**{name: data[name] for name in METRIC_NAMES})


@strawberry.type(description="One tested combination.")
class OptimizationRow:
    rank: int = strawberry.field(description="1 for the best.")
    parameters: JSON = strawberry.field(description="Parameter name → value.")
    score: float | None = strawberry.field(description="The maximised metric.")
    metrics: OptimizationMetrics


@strawberry.type(description="A metric over two optimised parameters.")
class HeatmapCell:
    x: float
    y: float
    value: float | None = strawberry.field(
        description="The best value among the combinations at (x, y); null if none has one."
    )


@strawberry.type(
    description="A metric over two optimised parameters: `values[j][i]` is at (xValues[i], "
    "yValues[j]); where other parameters vary too, each cell holds the best value among the "
    "combinations at that (x, y)."
)
class Heatmap(optimization.Heatmap):  # the fields: analytics/optimization.py's
    @strawberry.field(description="The same values, one cell per (x, y), row by row.")
    def cells(self) -> list[HeatmapCell]:
        return [
            HeatmapCell(x=x, y=y, value=row[i])
            for y, row in zip(self.y_values, self.values, strict=True)
            for i, x in enumerate(self.x_values)
        ]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@strawberry.type(description="One walk-forward fold.")
class WalkForwardFold:
    index: int
    train_from: datetime = strawberry.field(description="First in-sample candle.")
    train_to: datetime = strawberry.field(description="Last in-sample candle.")
    test_from: datetime = strawberry.field(description="First out-of-sample candle.")
    test_to: datetime = strawberry.field(description="Last out-of-sample candle.")
    parameters: JSON = strawberry.field(description="The in-sample winner.")
    in_sample: OptimizationMetrics
    out_of_sample: OptimizationMetrics
    initial_equity: Decimal = strawberry.field(
        description="Out-of-sample starting equity, at the currency's cash decimals."
    )
    final_equity: Decimal = strawberry.field(description="At the currency's cash decimals.")

    @classmethod
    def from_stored(cls, data: dict[str, Any], scales: decimals.Scales) -> WalkForwardFold:
        return cls(
            index=data["index"],
            train_from=_at(data["train_from"]),
            train_to=_at(data["train_to"]),
            test_from=_at(data["test_from"]),
            test_to=_at(data["test_to"]),
            parameters=JSON(data["parameters"]),
            in_sample=OptimizationMetrics.from_stored(data["in_sample"]),
            out_of_sample=OptimizationMetrics.from_stored(data["out_of_sample"]),
            initial_equity=scales.cash(data["initial_equity"]),
            final_equity=scales.cash(data["final_equity"]),
        )


@strawberry.type(
    description="A parameter optimisation: queued, running with progress, then the ranked "
    "combinations, the best one's full result and, with walkForward, the folds."
)
class Optimization(ResearchRun):
    kind: StrategyKind
    maximize: OptimizationMetric
    constraint: str | None
    parameters: JSON = strawberry.field(description="The ranges, as given.")
    combinations: int = strawberry.field(
        description="Combinations tested: the grid's points that satisfy the constraint and "
        "the strategy's rules."
    )
    best_parameters: JSON | None = strawberry.field(description="The winner's parameters.")

    @property
    def _run(self) -> documents.OptimizationRun:
        assert isinstance(self._document, documents.OptimizationRun)
        return self._document

    @strawberry.field(description="The n best combinations (n from 1 to 100), best first.")
    async def top(self, info: Info, n: int = 10) -> list[OptimizationRow]:
        if not 1 <= n <= 100:
            raise InvalidInput("n must be between 1 and 100", field="n")
        rows = await info.context.loaders.optimization_rows.load(str(self.id))
        return [
            OptimizationRow(
                rank=rank,
                parameters=JSON(row["parameters"]),
                score=optimization.score(row, self.maximize),
                metrics=OptimizationMetrics.from_stored(row["metrics"]),
            )
            for rank, row in enumerate(rows.ranked(self.maximize)[:n], start=1)
        ]

    @strawberry.field(
        description="`metric` (default: the maximised one) over two optimised parameters; "
        "BAD_USER_INPUT when x or y is not one. Empty until COMPLETED."
    )
    async def heatmap(
        self, info: Info, x: str, y: str, metric: OptimizationMetric | None = None
    ) -> Heatmap:
        rows = await info.context.loaders.optimization_rows.load(str(self.id))
        chosen = OptimizationMetric((metric or self.maximize).value)
        return Heatmap(**vars(rows.heatmap(x, y, chosen)))

    @strawberry.field(description="The winner's full backtest on the whole range.")
    async def best(self, info: Info) -> BacktestResult | None:
        best = self._run.best
        return (
            BacktestResult.from_stored(best, await scales_of(info, self.symbol)) if best else None
        )

    @strawberry.field(description="Empty without walkForward.")
    async def folds(self, info: Info) -> list[WalkForwardFold]:
        scales = await scales_of(info, self.symbol)
        return [WalkForwardFold.from_stored(fold, scales) for fold in self._run.folds]

    @strawberry.field(
        description="The folds' out-of-sample equity curves stitched (each fold starts from "
        "the previous one's final equity), at most 1,000 points."
    )
    async def out_of_sample_equity(self, info: Info) -> list[EquityCurvePoint]:
        scales = await scales_of(info, self.symbol)
        return [EquityCurvePoint.from_stored(p, scales) for p in self._run.out_of_sample_equity]

    @classmethod
    def from_document(cls, run: documents.OptimizationRun) -> Optimization:
        return cls(
            **run_fields(run),
            kind=StrategyKind(run.kind),
            maximize=OptimizationMetric(run.maximize),
            constraint=run.constraint,
            parameters=JSON(run.parameters),
            combinations=run.combinations,
            best_parameters=JSON(run.best_parameters) if run.best_parameters else None,
        )


@relay_connection("Optimization", "Your optimisations, newest first (Relay connection).")
class OptimizationConnection(Connection[Optimization]):
    pass
