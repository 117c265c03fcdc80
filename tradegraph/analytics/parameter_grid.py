"""The grid of strategy parameters an optimisation tests: ranges per parameter, counted before
anything is built (a grid over the limit is refused by its size alone), filtered by the
constraint and by the strategy's own rules (e.g. SMA fast < slow)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tradegraph.analytics.constraints import parse_constraint
from tradegraph.analytics.strategy import Strategy, StrategyKind
from tradegraph.errors import InvalidInput

MAX_COMBINATIONS = 10_000
# GraphQL name → Strategy attribute; integers must take integer values.
ATTRIBUTES = {
    "fast": "fast",
    "slow": "slow",
    "period": "period",
    "lower": "lower",
    "upper": "upper",
    "stopLossPct": "stop_loss_pct",
    "takeProfitPct": "take_profit_pct",
}
INTEGERS = frozenset({"fast", "slow", "period"})
EXITS = ("stopLossPct", "takeProfitPct")
PARAMETERS: dict[StrategyKind, tuple[str, ...]] = {
    StrategyKind.SMA_CROSSOVER: ("fast", "slow", *EXITS),
    StrategyKind.MACD_SIGNAL: ("fast", "slow", "period", *EXITS),
    StrategyKind.RSI_REVERSION: ("period", "lower", "upper", *EXITS),
    StrategyKind.BOLLINGER_REVERSION: ("period", *EXITS),
}


@dataclass(frozen=True)
class ParameterRange:
    """start, start + step, … up to and including stop."""

    name: str
    start: float
    stop: float
    step: float

    def count(self) -> int:
        """How many values; InvalidInput naming the parameter when they cannot be counted
        (a width or a count beyond floating point, e.g. -1.7e308 to 1.7e308)."""
        steps = (self.stop - self.start) / self.step + 1e-9
        if not math.isfinite(steps):
            raise InvalidInput(
                f"{self.name}: the range {self.start}..{self.stop} by {self.step} cannot be "
                "enumerated (its width overflows); narrow it",
                field="parameters",
                parameter=self.name,
            )
        return math.floor(steps) + 1

    def values(self) -> np.ndarray:
        return self.start + self.step * np.arange(self.count())


def _check_range(kind: StrategyKind, r: ParameterRange) -> None:
    allowed = PARAMETERS[kind]
    if r.name not in allowed:
        raise InvalidInput(
            f"{kind.value} has no parameter {r.name!r} (numeric parameters: {', '.join(allowed)})",
            field="parameters",
        )
    if not all(math.isfinite(v) for v in (r.start, r.stop, r.step)):
        raise InvalidInput(f"{r.name}: start, stop and step must be finite", field="parameters")
    if r.step <= 0 or r.stop < r.start:
        raise InvalidInput(
            f"{r.name}: need step > 0 and stop >= start (got {r.start}..{r.stop} by {r.step})",
            field="parameters",
        )
    if r.name in INTEGERS and not all(float(v).is_integer() for v in (r.start, r.step)):
        raise InvalidInput(f"{r.name} takes whole numbers: start and step", field="parameters")


def count_combinations(kind: StrategyKind, ranges: list[ParameterRange]) -> int:
    """The grid's size; InvalidInput for an unknown or repeated parameter, a bad range, or
    more than MAX_COMBINATIONS (naming the count)."""
    if not ranges:
        raise InvalidInput("give at least one parameter range", field="parameters")
    names = [r.name for r in ranges]
    if len(set(names)) != len(names):
        raise InvalidInput("each parameter may have one range", field="parameters")
    total = 1
    for r in ranges:
        _check_range(kind, r)
        total *= r.count()  # Python ints: a huge grid is still counted exactly
    if total > MAX_COMBINATIONS:
        raise InvalidInput(
            f"{total:,} combinations: at most {MAX_COMBINATIONS:,} per optimisation; "
            "narrow a range or widen its step",
            field="parameters",
            combinations=total,
        )
    return total


def grid(
    kind: StrategyKind, ranges: list[ParameterRange], constraint: str | None
) -> list[dict[str, float]]:
    """Every combination (in order, the last range varying fastest) that satisfies the
    constraint and the strategy's rules."""
    count_combinations(kind, ranges)
    axes = np.meshgrid(*(r.values() for r in ranges), indexing="ij")
    columns = {r.name: axis.ravel() for r, axis in zip(ranges, axes, strict=True)}
    keep = np.ones(len(axes[0].ravel()), dtype=bool)
    if constraint is not None and constraint.strip():
        mask = parse_constraint(constraint, frozenset(columns))(columns)
        keep &= np.broadcast_to(mask, keep.shape)
    combos = []
    for index in np.flatnonzero(keep):
        params = {
            name: (round(float(v[index])) if name in INTEGERS else float(v[index]))
            for name, v in columns.items()
        }
        try:
            strategy_of(kind, params).checked()
        except InvalidInput:
            continue  # e.g. fast >= slow: not a strategy, not tested
        combos.append(params)
    return combos


def strategy_of(kind: StrategyKind, params: dict[str, float]) -> Strategy:
    """The strategy with these parameters (GraphQL names), the others at their defaults."""
    values = {ATTRIBUTES[name]: value for name, value in params.items()}
    return Strategy(kind, **values)  # type: ignore[arg-type]
