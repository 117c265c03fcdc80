"""A trading strategy: its kind and parameters, with the kind's defaults and rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tradegraph.errors import InvalidInput


class StrategyKind(StrEnum):
    SMA_CROSSOVER = "SMA_CROSSOVER"
    RSI_REVERSION = "RSI_REVERSION"
    MACD_SIGNAL = "MACD_SIGNAL"
    BOLLINGER_REVERSION = "BOLLINGER_REVERSION"


@dataclass(frozen=True)
class Strategy:
    kind: StrategyKind
    fast: int | None = None
    slow: int | None = None
    period: int | None = None
    lower: float | None = None
    upper: float | None = None
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None

    def checked(self) -> Strategy:
        """With defaults: SMA 10/30, MACD 12/26 signal 9 (period), RSI 14 30/70, Bollinger 20."""
        kind = self.kind
        macd = kind is StrategyKind.MACD_SIGNAL
        fast = self.fast if self.fast is not None else (12 if macd else 10)
        slow = self.slow if self.slow is not None else (26 if macd else 30)
        period = (
            self.period
            if self.period is not None
            else {
                StrategyKind.RSI_REVERSION: 14,
                StrategyKind.MACD_SIGNAL: 9,
                StrategyKind.BOLLINGER_REVERSION: 20,
            }.get(kind)
        )
        lower = 30.0 if self.lower is None else self.lower
        upper = 70.0 if self.upper is None else self.upper
        for name, value in (("fast", fast), ("slow", slow), ("period", period)):
            if value is not None and value <= 0:
                raise InvalidInput(f"strategy {name} must be greater than 0", field=name)
        if kind in (StrategyKind.SMA_CROSSOVER, StrategyKind.MACD_SIGNAL) and fast >= slow:
            raise InvalidInput(f"fast ({fast}) must be less than slow ({slow})", field="fast")
        if kind is StrategyKind.RSI_REVERSION and not 0 <= lower < upper <= 100:
            raise InvalidInput("RSI levels need 0 <= lower < upper <= 100", field="lower")
        for name, pct in (
            ("stopLossPct", self.stop_loss_pct),
            ("takeProfitPct", self.take_profit_pct),
        ):
            if pct is not None and not 0 < pct < 100:
                raise InvalidInput(f"{name} must be between 0 and 100 (a percentage)", field=name)
        return Strategy(
            kind, fast, slow, period, lower, upper, self.stop_loss_pct, self.take_profit_pct
        )
