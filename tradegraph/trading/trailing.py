"""Trailing stops: what a TRAILING_STOP order must give (pure). The mark they follow and
when they trigger are matching rules (trading/matching.py: trailing_state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradegraph.decimals import is_multiple, plain
from tradegraph.documents import Instrument, OrderType
from tradegraph.errors import InvalidInput

if TYPE_CHECKING:  # orders.py calls this from check_order
    from tradegraph.trading.orders import OrderRequest


def check_trail(request: OrderRequest, instrument: Instrument) -> None:
    """TRAILING_STOP needs exactly one of trailPrice / trailPercent; other types neither."""
    given = [
        name
        for name, value in (
            ("trailPrice", request.trail_price),
            ("trailPercent", request.trail_percent),
        )
        if value is not None
    ]
    if request.type is not OrderType.TRAILING_STOP:
        if given:
            raise InvalidInput(f"{given[0]} applies to TRAILING_STOP orders only", field=given[0])
        return
    if len(given) != 1:
        raise InvalidInput(
            "TRAILING_STOP orders need exactly one of trailPrice and trailPercent",
            field="trailPrice",
        )
    if request.trail_price is not None:
        if request.trail_price <= 0 or not is_multiple(request.trail_price, instrument.tick_size):
            raise InvalidInput(
                f"trailPrice must be greater than 0 and a multiple of the tick size "
                f"{plain(instrument.tick_size)} of {instrument.symbol}",
                field="trailPrice",
            )
    elif request.trail_percent is not None and not 0 < request.trail_percent < 100:
        raise InvalidInput("trailPercent must be between 0 and 100", field="trailPercent")
