"""Day P&L: what positions gained since the previous session close.

The day starts at the instrument's last session close (in its time zone), or 24 hours ago for
crypto. The previous close is the last candle close before that moment. A position's day P&L
is its value now, less its value at the previous close (the quantity held then), less what
its trades since then cost (BUYs, fees included) plus what they brought in (SELLs):
    quantity·price - quantity_then·previous_close + Σ cash of its fills since the start.
Without any history before the start, the quantity held then is valued at the current price
(its overnight part counts 0).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from beanie import PydanticObjectId

from tradegraph.decimals import ZERO
from tradegraph.documents import CandleInterval, Instrument, LedgerEntry, LedgerKind
from tradegraph.documents import Side as OrderSide
from tradegraph.markets.candles import last_bar_before
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.sessions import session_start
from tradegraph.trading.valuation import PortfolioValue, PositionValue

# Finer candles first: the close nearest the start; coarser ones reach past weekends.
LOOKBACK = (
    (CandleInterval.ONE_MINUTE, timedelta(days=1)),
    (CandleInterval.ONE_HOUR, timedelta(days=7)),
    (CandleInterval.ONE_DAY, timedelta(days=60)),
)
CACHED_CLOSES = 10_000


@dataclass(frozen=True)
class PositionDay:
    previous_close: Decimal | None
    change_today: Decimal | None  # (price - previous close) / previous close
    day_pnl: Decimal


@dataclass(frozen=True)
class DayPnl:
    total: Decimal
    percent: Decimal | None  # total / (equity - total)
    positions: dict[str, PositionDay]


def day_start(instrument: Instrument, now: datetime) -> datetime:
    """The previous session close at or before `now` in the instrument's time zone; for
    crypto, 24 hours ago (the session quotes report too)."""
    return session_start(instrument, now)


def position_day(
    position: PositionValue, previous_close: Decimal | None, fills: list[LedgerEntry]
) -> PositionDay:
    """The day P&L of one position from its fills since the day started (pure)."""
    price = position.market_price
    bought = sum((f.quantity or ZERO for f in fills if f.side is OrderSide.BUY), ZERO)
    sold = sum((f.quantity or ZERO for f in fills if f.side is OrderSide.SELL), ZERO)
    cash = sum((f.amount for f in fills), ZERO)
    held_then = position.quantity - bought + sold
    now_value = position.market_value
    basis = previous_close if previous_close is not None else price
    then_value = held_then * basis if basis is not None else now_value
    change = None
    if price is not None and previous_close:
        change = (price - previous_close) / previous_close
    return PositionDay(previous_close, change, now_value - then_value + cash)


class DayPnlService:
    def __init__(self, instruments: Instruments) -> None:
        self.instruments = instruments
        self._closes: OrderedDict[tuple[str, datetime], Decimal] = OrderedDict()

    async def previous_close(self, instrument: Instrument, start: datetime) -> Decimal | None:
        """The last candle close before `start`. Found ones are cached (a past close does not
        change); none found is asked again next time (history may be imported meanwhile)."""
        key = (str(instrument.id), start)
        if key in self._closes:
            return self._closes[key]
        for interval, reach in LOOKBACK:
            found = await last_bar_before(
                instrument.symbol, interval, start, not_before=start - reach
            )
            if found is not None:
                self._closes[key] = found.close
                if len(self._closes) > CACHED_CLOSES:
                    self._closes.popitem(last=False)
                return found.close
        return None

    async def of(self, value: PortfolioValue, now: datetime | None = None) -> DayPnl:
        """Day P&L of a valuation that includes closed positions (they may have traded today)."""
        now = now or value.timestamp
        starts = await self.day_starts([p.symbol for p in value.positions], now)
        fills = await fills_since(PydanticObjectId(value.portfolio_id), starts)
        return await self.of_fills(value, starts, fills)

    async def day_starts(self, symbols: Iterable[str], now: datetime) -> dict[str, datetime]:
        """When each listed symbol's day began (unlisted ones have no day P&L)."""
        starts = {}
        for symbol in symbols:
            instrument = await self.instruments.get(symbol)
            if instrument is not None:
                starts[symbol] = day_start(instrument, now)
        return starts

    async def of_fills(
        self, value: PortfolioValue, starts: Mapping[str, datetime], fills: Sequence[LedgerEntry]
    ) -> DayPnl:
        """Day P&L of a valuation from fills that include every one since `starts` (older
        ones are left out here); the previous closes come from the cache or the candles."""
        days: dict[str, PositionDay] = {}
        for position in value.positions:
            start = starts.get(position.symbol)
            instrument = await self.instruments.get(position.symbol)
            if start is None or instrument is None:
                continue
            today = [f for f in fills if f.symbol == position.symbol and f.timestamp >= start]
            close = await self.previous_close(instrument, start)
            days[position.symbol] = position_day(position, close, today)
        total = sum((d.day_pnl for d in days.values()), ZERO)
        base = value.equity - total
        return DayPnl(total, total / base if base > 0 else None, days)


async def fills_since(
    portfolio_id: PydanticObjectId, starts: Mapping[str, datetime]
) -> list[LedgerEntry]:
    """The portfolio's fills since the earliest of `starts`, in one query."""
    if not starts:
        return []
    return await LedgerEntry.find(
        {
            "portfolio_id": portfolio_id,
            "kind": LedgerKind.FILL.value,
            "symbol": {"$in": sorted(starts)},
            "timestamp": {"$gte": min(starts.values())},
        }
    ).to_list()
