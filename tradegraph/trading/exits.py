"""The exits of BRACKET, OCO and OTO orders as pure rules: which prices fit which side, and
the orders the exits become."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradegraph.documents import Order, OrderClass, OrderType, Side, TimeInForce
from tradegraph.errors import InvalidInput
from tradegraph.trading.order_rules import OrderRequest


@dataclass(frozen=True)
class Exits:
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit: Decimal | None = None  # the take-profit LIMIT's price
    stop_loss: Decimal | None = None  # the stop-loss STOP's price
    stop_limit: Decimal | None = None  # makes the stop-loss a STOP_LIMIT


def check_exits(request: OrderRequest, exits: Exits) -> None:
    """BAD_USER_INPUT for exits that do not fit the class or the side: exits of a BUY take
    profit above where they stop the loss, exits of a SELL below."""
    kind = exits.order_class
    given = [n for n, v in (("takeProfit", exits.take_profit), ("stopLoss", exits.stop_loss)) if v]
    if kind is OrderClass.SIMPLE:
        if given:
            raise InvalidInput(f"{given[0]} needs orderClass BRACKET, OCO or OTO", field=given[0])
        return
    if kind is OrderClass.OTO and len(given) != 1:
        raise InvalidInput(
            "OTO orders need exactly one of takeProfit and stopLoss", field="takeProfit"
        )
    if kind in (OrderClass.BRACKET, OrderClass.OCO) and len(given) != 2:
        raise InvalidInput(f"{kind.value} orders need takeProfit and stopLoss", field="takeProfit")
    if kind is OrderClass.OCO and request.type is not OrderType.LIMIT:
        raise InvalidInput("an OCO order is its take-profit: type LIMIT", field="type")
    if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and kind is OrderClass.OCO:
        raise InvalidInput("OCO exits rest: use DAY or GTC", field="timeInForce")
    # Where the position is opened (BRACKET/OTO entry) or held: exits must lie either side.
    long = request.side is Side.BUY if kind is not OrderClass.OCO else request.side is Side.SELL
    tp, sl = exits.take_profit, exits.stop_loss
    for name, price in (("takeProfit", tp), ("stopLoss", sl), ("stopLoss", exits.stop_limit)):
        if price is not None and price <= 0:
            raise InvalidInput(f"{name} prices must be greater than 0", field=name)
    if tp is not None and sl is not None and (tp <= sl if long else tp >= sl):
        relation = "above" if long else "below"
        raise InvalidInput(
            f"the take-profit {tp} must be {relation} the stop-loss {sl} for a "
            f"{'long' if long else 'short'} position",
            field="takeProfit",
        )
    base = request.limit_price if kind is not OrderClass.OCO else None
    if base is not None and tp is not None and (tp <= base if long else tp >= base):
        raise InvalidInput(
            f"the take-profit {tp} must be {'above' if long else 'below'} the entry's limit "
            f"price {base}",
            field="takeProfit",
        )
    if base is not None and sl is not None and (sl >= base if long else sl <= base):
        raise InvalidInput(
            f"the stop-loss {sl} must be {'below' if long else 'above'} the entry's limit "
            f"price {base}",
            field="stopLoss",
        )
    if (
        sl is not None
        and exits.stop_limit is not None
        and (exits.stop_limit > sl if long else exits.stop_limit < sl)
    ):
        raise InvalidInput(
            f"the stop-loss limit price must be at or {'below' if long else 'above'} its stop "
            "price",
            field="stopLoss",
        )


def exits_of(order_class: OrderClass, legs: list[Order]) -> Exits:
    """The exits an entry's stored legs stand for: its LIMIT leg is the take-profit, its STOP
    or STOP_LIMIT leg the stop-loss."""
    take = next((leg for leg in legs if leg.type is OrderType.LIMIT), None)
    stop = next((leg for leg in legs if leg.type is not OrderType.LIMIT), None)
    return Exits(
        order_class,
        take_profit=take.limit_price if take else None,
        stop_loss=stop.stop_price if stop else None,
        stop_limit=stop.limit_price if stop else None,
    )


def leg_requests(request: OrderRequest, exits: Exits) -> list[OrderRequest]:
    """The exits as orders: take-profit (LIMIT) first, then stop-loss (STOP / STOP_LIMIT).
    BRACKET / OTO exits take the other side; an OCO's legs are on the order's own side."""
    side = request.side
    if exits.order_class is not OrderClass.OCO:
        side = Side.SELL if request.side is Side.BUY else Side.BUY
    tif = request.time_in_force
    if tif in (TimeInForce.IOC, TimeInForce.FOK):
        tif = TimeInForce.GTC  # exits rest until one of them fills
    base = OrderRequest(
        portfolio_id=request.portfolio_id,
        symbol=request.symbol,
        side=side,
        type=OrderType.LIMIT,
        quantity=request.quantity,
        time_in_force=tif,
    )
    legs = []
    if exits.take_profit is not None:
        legs.append(with_changes(base, type=OrderType.LIMIT, limit_price=exits.take_profit))
    if exits.stop_loss is not None:
        kind = OrderType.STOP if exits.stop_limit is None else OrderType.STOP_LIMIT
        legs.append(
            with_changes(base, type=kind, stop_price=exits.stop_loss, limit_price=exits.stop_limit)
        )
    return legs


def with_changes(request: OrderRequest, **changes: Any) -> OrderRequest:
    return OrderRequest(**{**request.__dict__, **changes})
