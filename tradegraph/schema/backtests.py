"""GraphQL types for backtests: strategies, the run, its trades, equity curve and statistics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from tradegraph import decimals, documents
from tradegraph.analytics.backtest_engine import Strategy, StrategyKind
from tradegraph.analytics.backtest_runs import BacktestRequest
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
    StrategyKind,
    name="StrategyKind",
    description="SMA_CROSSOVER: enter when SMA(fast) crosses above SMA(slow), exit on the "
    "opposite cross. MACD_SIGNAL: the same with the MACD line (fast, slow) and its signal "
    "(period). RSI_REVERSION: enter when RSI(period) < lower, exit when > upper. "
    "BOLLINGER_REVERSION: enter when the close is below the lower band (period, 2 standard "
    "deviations), exit when it is back at or above the middle.",
)
StrategyKindEnum = StrategyKind


@strawberry.input(description="Strategy parameters; each kind uses some (see StrategyKind).")
class StrategyInput:
    kind: StrategyKindEnum
    fast: int | None = None
    slow: int | None = None
    period: int | None = None
    lower: float | None = None
    upper: float | None = None
    stop_loss_pct: float | None = strawberry.field(
        default=None, description="Exit when a close is this % below the entry price."
    )
    take_profit_pct: float | None = strawberry.field(
        default=None, description="Exit when a close is this % above the entry price."
    )

    def to_value(self) -> Strategy:
        return Strategy(
            StrategyKind(self.kind.value),
            self.fast,
            self.slow,
            self.period,
            self.lower,
            self.upper,
            self.stop_loss_pct,
            self.take_profit_pct,
        )


@strawberry.input(
    description="Long only. Signals are evaluated on a bar's close and executed at the next "
    "bar's open; a signal on the last bar is not executed; a position open at the end is "
    "closed at the last close. Each entry invests all cash: quantity = cash / "
    "(price*(1 + fee)); a sale yields quantity*price*(1 - fee); fee = feeBps / 10,000."
)
class BacktestInput(RunMarketInput):
    strategy: StrategyInput

    def to_request(self) -> BacktestRequest:
        return BacktestRequest(
            self.symbol,
            documents.CandleInterval(self.interval.value),
            self.from_,
            self.to,
            float(self.initial_cash),
            self.fee_bps,
            self.strategy.to_value(),
        )


@strawberry.type(
    description="One round trip. Prices at the instrument's tick decimals, pnl at its "
    "currency's cash decimals."
)
class BacktestTrade:
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    quantity: float = strawberry.field(
        description="Units bought with all cash: fractional, not rounded to the lot size."
    )
    pnl: Decimal

    @classmethod
    def from_stored(cls, trade: dict[str, Any], scales: decimals.Scales) -> BacktestTrade:
        return cls(
            entry_time=_at(trade["entry_time"]),
            entry_price=scales.price(trade["entry_price"]),
            exit_time=_at(trade["exit_time"]),
            exit_price=scales.price(trade["exit_price"]),
            quantity=trade["quantity"],
            pnl=scales.cash(trade["pnl"]),
        )


@strawberry.type
class EquityCurvePoint:
    time: datetime
    equity: Decimal = strawberry.field(description="At the currency's cash decimals.")

    @classmethod
    def from_stored(cls, point: Sequence[Any], scales: decimals.Scales) -> EquityCurvePoint:
        """A stored [seconds, equity] pair."""
        seconds, equity = point
        return cls(time=_at(seconds), equity=scales.cash(equity))


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@strawberry.type(
    description="Metrics of a completed run. Sharpe and Sortino use per-bar returns with a "
    "zero risk-free rate, annualised by √(bars per year) with 365 days a year (525,600 "
    "one-minute bars, 365 daily bars). Amounts of money are Decimals at the instrument "
    "currency's cash decimals; ratios and fractions are Floats."
)
class BacktestResult:
    final_equity: Decimal
    total_return: float = strawberry.field(description="finalEquity / initialCash - 1.")
    cagr: float | None = strawberry.field(
        description="(finalEquity / initialCash)^(1/years) - 1; null if it overflows."
    )
    max_drawdown: float = strawberry.field(description="Largest fall from a peak, a fraction.")
    sharpe: float | None = strawberry.field(description="mean / standard deviation.")
    sortino: float | None = strawberry.field(
        description="mean / downside deviation (root mean square of negative returns)."
    )
    win_rate: float | None = strawberry.field(description="Trades with pnl > 0 / trades.")
    profit_factor: float | None = strawberry.field(
        description="Gross profit / gross loss; null without a losing trade."
    )
    trade_count: int
    trades: list[BacktestTrade] = strawberry.field(description="At most the first 20,000.")
    equity_curve: list[EquityCurvePoint] = strawberry.field(
        description="Equity at closes, evenly sampled to at most 1,000 points."
    )
    calmar: float | None = strawberry.field(
        description="cagr / maxDrawdown; null without a drawdown or a cagr."
    )
    expectancy: Decimal | None = strawberry.field(
        description="Mean pnl per trade, in cash; null without trades."
    )
    sqn: float | None = strawberry.field(
        description="System quality number: √(trades) · mean / sample standard deviation of "
        "the trades' pnl; null under 2 trades or when every pnl is equal."
    )
    exposure: float = strawberry.field(
        description="Fraction of bars with a position held at their close (a position closed "
        "at the final close counts as held on the last bar)."
    )
    buy_and_hold_return: float = strawberry.field(
        description="Buying with all cash at the first bar's open and selling at the last "
        "close, with the same fee: lastClose·(1 - fee) / (firstOpen·(1 + fee)) - 1."
    )
    total_fees: Decimal = strawberry.field(
        description="Fees paid on every entry and exit: Σ quantity · price · fee."
    )
    max_drawdown_duration: int = strawberry.field(
        description="Longest time, in seconds, from a close at an equity high to the next "
        "close back at or above it (or to the last close if it never recovers); 0 without a "
        "drawdown."
    )
    average_win: Decimal | None = strawberry.field(
        description="Mean pnl of the trades with pnl > 0; null without one."
    )
    average_loss: Decimal | None = strawberry.field(
        description="Mean pnl (negative) of the trades with pnl < 0; null without one."
    )
    best_trade: Decimal | None = strawberry.field(
        description="Largest trade pnl; null without trades."
    )
    worst_trade: Decimal | None = strawberry.field(
        description="Smallest trade pnl; null without trades."
    )

    @classmethod
    def from_stored(cls, data: dict[str, Any], scales: decimals.Scales) -> BacktestResult:
        """A stored result (floats, as the engine computed them) with its money at `scales`."""
        statistics = dict(data["statistics"])
        for name in MONEY_STATISTICS:
            if statistics[name] is not None:
                statistics[name] = scales.cash(statistics[name])
        return cls(
            final_equity=scales.cash(data["final_equity"]),
            total_return=data["total_return"],
            cagr=data["cagr"],
            max_drawdown=data["max_drawdown"],
            sharpe=data["sharpe"],
            sortino=data["sortino"],
            win_rate=data["win_rate"],
            profit_factor=data["profit_factor"],
            trade_count=data["trade_count"],
            trades=[BacktestTrade.from_stored(t, scales) for t in data["trades"]],
            equity_curve=[EquityCurvePoint.from_stored(p, scales) for p in data["equity_curve"]],
            **statistics,
        )


MONEY_STATISTICS = (
    "expectancy",
    "total_fees",
    "average_win",
    "average_loss",
    "best_trade",
    "worst_trade",
)  # the rest are ratios, fractions or durations


@strawberry.type(description="A backtest: queued, running with progress, then a result.")
class BacktestRun(ResearchRun):
    strategy: JSON = strawberry.field(description="The strategy with its defaults filled in.")

    @strawberry.field(description="Once COMPLETED.")
    async def result(self, info: Info) -> BacktestResult | None:
        stored = (
            self._document.result if isinstance(self._document, documents.BacktestRun) else None
        )
        if not stored:
            return None
        return BacktestResult.from_stored(stored, await scales_of(info, self.symbol))

    @classmethod
    def from_document(cls, run: documents.BacktestRun) -> BacktestRun:
        return cls(**run_fields(run), strategy=JSON(run.strategy))


@relay_connection("Backtest", "Your backtest runs, newest first (Relay connection).")
class BacktestConnection(Connection[BacktestRun]):
    pass
