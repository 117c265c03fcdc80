"""The rules an order request must pass before anything is stored (pure): prices on the tick
grid, quantities on the lot grid, what each order type needs, trailing-stop parameters, a
repeated clientOrderId, and when a DAY order ends. The trail's mark and trigger are matching
rules (trading/matching.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tradegraph.decimals import is_multiple, plain
from tradegraph.documents import (
    AssetClass,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Portfolio,
    Side,
    TimeInForce,
)
from tradegraph.errors import AlreadyExists, InvalidInput

MAX_CLIENT_ORDER_ID = 64


@dataclass(frozen=True)
class OrderRequest:
    portfolio_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    time_in_force: TimeInForce | None = None  # None: the venue's default (default_time_in_force)
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None


def default_time_in_force(instrument: Instrument) -> TimeInForce:
    """DAY on a venue with sessions; GTC for crypto, which trades around the clock (a DAY
    order there would expire at an arbitrary midnight, part-filled)."""
    return TimeInForce.GTC if instrument.asset_class is AssetClass.CRYPTO else TimeInForce.DAY


def with_time_in_force(request: OrderRequest, instrument: Instrument) -> OrderRequest:
    """The request with its time in force chosen: as given, else the venue's default."""
    if request.time_in_force is not None:
        return request
    return replace(request, time_in_force=default_time_in_force(instrument))


def check_order(request: OrderRequest, instrument: Instrument, portfolio: Portfolio) -> None:
    """Raises InvalidInput for the first rule the request breaks."""
    if request.time_in_force is TimeInForce.DAY and instrument.asset_class is AssetClass.CRYPTO:
        raise InvalidInput(
            f"{instrument.symbol} trades around the clock, so DAY does not apply: use GTC "
            "(the default), IOC or FOK",
            field="timeInForce",
        )
    if request.quantity <= 0:
        raise InvalidInput("quantity must be greater than 0", field="quantity")
    if not is_multiple(request.quantity, instrument.lot_size):
        raise InvalidInput(
            f"quantity must be a multiple of the lot size {plain(instrument.lot_size)} "
            f"of {instrument.symbol}",
            field="quantity",
        )
    needs_limit = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = request.type in (OrderType.STOP, OrderType.STOP_LIMIT)
    for name, price, needed in (
        ("limitPrice", request.limit_price, needs_limit),
        ("stopPrice", request.stop_price, needs_stop),
    ):
        if needed and price is None:
            raise InvalidInput(f"{request.type.value} orders need {name}", field=name)
        if not needed and price is not None:
            raise InvalidInput(f"{name} does not apply to {request.type.value} orders", field=name)
        if price is not None and price <= 0:
            raise InvalidInput(f"{name} must be greater than 0", field=name)
        if price is not None and not is_multiple(price, instrument.tick_size):
            raise InvalidInput(
                f"{name} {plain(price)} is not a multiple of the tick size "
                f"{plain(instrument.tick_size)} of {instrument.symbol}",
                field=name,
            )
    check_trail(request, instrument)
    triggered_later = needs_stop or request.type is OrderType.TRAILING_STOP
    if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and triggered_later:
        raise InvalidInput("IOC and FOK apply to MARKET and LIMIT orders only", field="timeInForce")
    if instrument.currency != portfolio.base_currency:
        raise InvalidInput(
            f"{instrument.symbol} trades in {instrument.currency}; this portfolio holds "
            f"{portfolio.base_currency}",
            field="symbol",
        )
    client_id = request.client_order_id
    if client_id is not None and not 0 < len(client_id) <= MAX_CLIENT_ORDER_ID:
        raise InvalidInput(
            f"clientOrderId must be 1 to {MAX_CLIENT_ORDER_ID} characters", field="clientOrderId"
        )


# What a clientOrderId stands for: the order's fields and their names in the API.
ORDER_PARAMETERS = {
    "symbol": "symbol",
    "side": "side",
    "type": "type",
    "quantity": "quantity",
    "limit_price": "limitPrice",
    "stop_price": "stopPrice",
    "time_in_force": "timeInForce",
    "trail_price": "trailPrice",
    "trail_percent": "trailPercent",
}


def differing_parameters(placed: Order, asked: Order) -> list[str]:
    """The API names of the parameters in which `asked` differs from `placed` (by value:
    quantity 5 and 5.00 are the same)."""
    return [
        name
        for attribute, name in ORDER_PARAMETERS.items()
        if getattr(placed, attribute) != getattr(asked, attribute)
    ]


def replayed(placed: Order, asked: Order) -> Order:
    """The order a repeated clientOrderId returns: the one placed first, provided `asked` has
    the same parameters; otherwise the key was reused for another order, a CONFLICT."""
    if differing := differing_parameters(placed, asked):
        raise AlreadyExists(
            f"clientOrderId {placed.client_order_id!r} was already used for a different order "
            f"in this portfolio (it differs in {', '.join(differing)}); use a new "
            "clientOrderId, or repeat the same parameters to get that order back",
            client_order_id=placed.client_order_id,
            fields=differing,
        )
    if placed.status is OrderStatus.PENDING_NEW:
        raise AlreadyExists(
            f"order {placed.client_order_id} is still being placed; ask again shortly",
            client_order_id=placed.client_order_id,
        )
    return placed


def day_end(instrument: Instrument, now: datetime) -> datetime:
    """The end of the instrument's trading day: its next session close, in its time zone.
    (Weekends and holidays are not modelled: a DAY order lives until the next close.)"""
    zone = ZoneInfo(instrument.timezone)
    local = now.astimezone(zone)
    close = datetime.combine(local.date(), instrument.close_time, tzinfo=zone)
    if close <= local:
        close = datetime.combine(
            local.date() + timedelta(days=1), instrument.close_time, tzinfo=zone
        )
    return close.astimezone(UTC)


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
