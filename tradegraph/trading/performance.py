"""Equity history from the ledger and candle closes, and the performance measures on it."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from tradegraph.decimals import ZERO
from tradegraph.documents import CandleInterval, LedgerEntry, LedgerKind, Portfolio, Side
from tradegraph.errors import InvalidInput
from tradegraph.markets.candles import bucket_start, candles

MAX_POINTS = 2000
RATIO = Decimal("0.0000000001")
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class EquityPoint:
    time: datetime
    cash: Decimal
    equity: Decimal
    net_deposits: Decimal


@dataclass(frozen=True)
class PerformanceResult:
    total_return: Decimal | None
    time_weighted_return: Decimal | None
    max_drawdown: Decimal | None
    volatility: float | None
    sharpe: float | None
    win_rate: Decimal | None


def _moments(from_: datetime, to: datetime, interval: CandleInterval) -> list[datetime]:
    step = timedelta(seconds=interval.seconds)
    if (to - from_) / step > MAX_POINTS:
        raise InvalidInput(
            f"at most {MAX_POINTS} points: use a larger interval or a shorter range",
            field="interval",
        )
    moments = [from_]
    edge = bucket_start(from_, interval) + step
    while edge < to:
        moments.append(edge)
        edge += step
    moments.append(to)
    return moments


def _range(
    portfolio: Portfolio, from_: datetime | None, to: datetime | None
) -> tuple[datetime, datetime]:
    to = to or datetime.now(UTC)
    from_ = from_ or portfolio.created_at.astimezone(UTC)
    if from_ >= to:
        raise InvalidInput("from must be before to", field="from")
    return from_, to


async def equity_history(
    portfolio: Portfolio, from_: datetime | None, to: datetime | None, interval: CandleInterval
) -> list[EquityPoint]:
    """Cash, equity and net deposits at `from`, at each interval end, and at `to`. Holdings are
    valued at the close of the last candle before each moment (else the last fill price)."""
    from_, to = _range(portfolio, from_, to)
    moments = _moments(from_, to, interval)
    entries = (
        await LedgerEntry.find(
            {
                "portfolio_id": portfolio.id,
                "timestamp": {"$lt": to},
                "$or": [{"applied": True}, {"kind": LedgerKind.FILL.value}],
            }
        )
        .sort("timestamp", "_id")
        .to_list()
    )
    symbols = sorted({e.symbol for e in entries if e.symbol})
    closes = {s: await candles(s, interval, from_, to) for s in symbols}
    points: list[EquityPoint] = []
    cash, deposits = ZERO, ZERO
    held: dict[str, Decimal] = {}
    last_fill: dict[str, Decimal] = {}
    index = 0
    for moment in moments:
        while index < len(entries) and entries[index].timestamp.astimezone(UTC) <= moment:
            entry = entries[index]
            cash += entry.amount
            if entry.kind is not LedgerKind.FILL:
                deposits += entry.amount
            elif entry.symbol and entry.quantity is not None and entry.price is not None:
                sign = 1 if entry.side is Side.BUY else -1
                held[entry.symbol] = held.get(entry.symbol, ZERO) + sign * entry.quantity
                last_fill[entry.symbol] = entry.price
            index += 1
        equity = cash
        for symbol, quantity in held.items():
            before = [c.close for c in closes[symbol] if c.start < moment]
            price = before[-1] if before else last_fill[symbol]
            equity += quantity * price
        points.append(EquityPoint(moment, cash, equity, deposits))
    return points


def _period_returns(points: list[EquityPoint]) -> list[Decimal]:
    returns = []
    for previous, current in pairwise(points):
        if previous.equity > 0:
            flows = current.net_deposits - previous.net_deposits
            returns.append((current.equity - flows) / previous.equity - 1)
    return returns


async def performance(
    portfolio: Portfolio, from_: datetime | None, to: datetime | None, interval: CandleInterval
) -> PerformanceResult:
    points = await equity_history(portfolio, from_, to, interval)
    last = points[-1]
    total = (last.equity - last.net_deposits) / last.net_deposits if last.net_deposits > 0 else None
    returns = _period_returns(points)
    twr = drawdown = None
    if returns:
        index, peak, drawdown = Decimal(1), Decimal(1), ZERO
        for r in returns:
            index *= 1 + r
            peak = max(peak, index)
            drawdown = max(drawdown, (peak - index) / peak)
        twr = index - 1
    volatility = sharpe = None
    if len(returns) >= 2:
        floats = [float(r) for r in returns]
        per_year = DAYS_PER_YEAR * 86400 / interval.seconds
        deviation = statistics.stdev(floats)
        volatility = deviation * math.sqrt(per_year)
        sharpe = statistics.fmean(floats) / deviation * math.sqrt(per_year) if deviation else None
    from_, to = _range(portfolio, from_, to)
    sells = await LedgerEntry.find(
        {
            "portfolio_id": portfolio.id,
            "kind": LedgerKind.FILL.value,
            "side": Side.SELL.value,
            "applied": True,
            "timestamp": {"$gte": from_, "$lt": to},
        }
    ).to_list()
    wins = sum(1 for s in sells if s.realized_pnl is not None and s.realized_pnl > 0)

    def ratio(value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(RATIO)

    return PerformanceResult(
        total_return=ratio(total),
        time_weighted_return=ratio(twr),
        max_drawdown=ratio(drawdown),
        volatility=volatility,
        sharpe=sharpe,
        win_rate=ratio(Decimal(wins) / len(sells)) if sells else None,
    )
