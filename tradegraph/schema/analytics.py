"""GraphQL types and inputs for indicators, backtests, risk and insights."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from tradegraph import decimals, documents
from tradegraph.analytics import indicator_series, indicators
from tradegraph.analytics import risk as risk_rules
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

strawberry.enum(indicators.IndicatorKind, name="IndicatorKind")
IndicatorKind = indicators.IndicatorKind

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


@strawberry.input(description="One indicator to compute; unused parameters are ignored.")
class IndicatorSpec:
    kind: IndicatorKind
    period: int | None = strawberry.field(
        default=None, description="SMA/EMA: required; RSI default 14; BOLLINGER default 20."
    )
    fast: int | None = strawberry.field(default=None, description="MACD, default 12.")
    slow: int | None = strawberry.field(default=None, description="MACD, default 26.")
    signal: int | None = strawberry.field(default=None, description="MACD, default 9.")
    stddev: float | None = strawberry.field(default=None, description="BOLLINGER, default 2.")

    def to_value(self) -> indicators.IndicatorSpec:
        return indicators.IndicatorSpec(
            self.kind, self.period, self.fast, self.slow, self.signal, self.stddev
        )


@strawberry.type(description="An indicator at one candle; fields its kind does not use are null.")
class IndicatorPoint:
    time: datetime = strawberry.field(description="The candle's start.")
    value: float | None = strawberry.field(description="SMA, EMA, RSI; MACD: the MACD line.")
    upper: float | None = strawberry.field(description="BOLLINGER: middle + k*stddev.")
    middle: float | None = strawberry.field(description="BOLLINGER: SMA(n).")
    lower: float | None = strawberry.field(description="BOLLINGER: middle - k*stddev.")
    signal: float | None = strawberry.field(description="MACD: EMA(signal) of the line.")
    histogram: float | None = strawberry.field(description="MACD: line - signal.")


@strawberry.type
class IndicatorSeries:
    name: str = strawberry.field(description='e.g. "SMA(20)", "MACD(12,26,9)".')
    points: list[IndicatorPoint] = strawberry.field(
        description="From the first candle where the indicator is defined (no warm-up nulls)."
    )

    @classmethod
    def from_value(cls, series: indicator_series.IndicatorSeries) -> IndicatorSeries:
        points = [IndicatorPoint(**vars(point)) for point in series.points]
        return cls(name=series.name, points=points)


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


COST_USD_PLACES = 6  # model prices are quoted per million tokens: cents are too coarse

strawberry.enum(documents.InsightSource, name="InsightSource")
InsightSource = documents.InsightSource


@strawberry.type(description="A short text about recent activity, stating aggregated facts.")
class Insight:
    id: strawberry.ID
    range: str
    text: str
    source: InsightSource = strawberry.field(
        description="OPENAI: worded by the model; TEMPLATE: the facts in a fixed sentence."
    )
    model: str | None
    facts: JSON = strawberry.field(description="What the text is based on (events, trading).")
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: Decimal | None = strawberry.field(
        description="Estimated from the model's prices, in USD at 6 decimals."
    )
    cached: bool = strawberry.field(description="Served from the cache without a model call.")
    created_at: datetime
    reason: str | None = strawberry.field(description="Why the TEMPLATE was used.")

    @classmethod
    def from_document(cls, record: documents.InsightRecord, cached: bool = False) -> Insight:
        return cls(
            id=strawberry.ID(str(record.id)),
            range=record.range,
            text=record.text,
            source=record.source,
            model=record.model,
            facts=JSON(record.facts),
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            cost_usd=None
            if record.cost_usd is None
            else decimals.at_places(decimals.exact(record.cost_usd), COST_USD_PLACES),
            cached=cached,
            created_at=record.created_at,
            reason=record.reason,
        )


@strawberry.type(
    description="Risk of the current holdings over the last year of daily closes: today's "
    "weights applied to each held instrument's daily returns (cash returns 0)."
)
class PortfolioRisk:
    volatility: float | None = strawberry.field(
        description="Sample standard deviation of daily returns * sqrt(365); null with fewer "
        "than 3 common days."
    )
    value_at_risk_95: Decimal | None = strawberry.field(
        name="valueAtRisk95",
        description="Historical 1-day VaR at 95%, in the base currency at its cash decimals: "
        "-(5th percentile of daily returns) * equity, floored at 0.",
    )
    beta: float | None = strawberry.field(
        description="cov(portfolio, benchmark) / var(benchmark) of daily returns; the "
        "benchmark is TRADEGRAPH_RISK_BENCHMARK_SYMBOL."
    )
    concentration: float = strawberry.field(
        description="Herfindahl index of the positions' weights (sum of squared shares of the "
        "invested value): 1 = one position, 1/n = n equal positions, 0 = no positions."
    )
    risk_score: float = strawberry.field(
        description="In [0, 1]: 0.4 * min(volatility / 0.8, 1) + 0.3 * concentration + "
        "0.3 * min(|beta| / 2, 1); an unknown part counts as 0."
    )
    days: int = strawberry.field(description="Days of history the figures use.")

    @classmethod
    def from_value(cls, risk: risk_rules.Risk, currency: str) -> PortfolioRisk:
        """The figures, with the VaR (money in `currency`) at that currency's scale."""
        var = risk.value_at_risk_95
        cash = decimals.Scales.of(None, currency).cash
        return cls(**{**vars(risk), "value_at_risk_95": None if var is None else cash(var)})
