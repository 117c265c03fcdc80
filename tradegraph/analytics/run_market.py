"""What every research run is given: a market range, the starting cash and the fee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradegraph.documents import CandleInterval
from tradegraph.errors import InvalidInput

MAX_BARS = 1_100_000  # two years of one-minute bars


@dataclass(frozen=True)
class RunMarket:
    symbol: str
    interval: CandleInterval
    from_: datetime
    to: datetime
    initial_cash: float
    fee_bps: float

    def check_market(self) -> None:
        """InvalidInput naming the field for a range, cash or fee a run cannot use."""
        if self.from_ >= self.to:
            raise InvalidInput("from must be before to", field="from")
        if (self.to - self.from_).total_seconds() / self.interval.seconds > MAX_BARS:
            raise InvalidInput(f"at most {MAX_BARS:,} candles per backtest", field="to")
        if not self.initial_cash > 0:
            raise InvalidInput("initialCash must be greater than 0", field="initialCash")
        if not 0 <= self.fee_bps <= 1000:
            raise InvalidInput("feeBps must be between 0 and 1000", field="feeBps")

    def market(self) -> dict[str, Any]:
        """The fields every kind of run stores about its market, cash and fee."""
        return {
            "symbol": self.symbol,
            "interval": self.interval.value,
            "from_": self.from_,
            "to": self.to,
            "initial_cash": self.initial_cash,
            "fee_bps": self.fee_bps,
        }
