"""Replacing an open order with a new one that takes over its reservation.

The reservation moves without a transaction, in idempotent steps around one commit point:
1. the new order is stored PENDING_NEW (never matched, shown or released) holding the whole
   new reservation, with `reserve_delta` = new - old reservation;
2. if the new order needs more than the old one held, the extra is reserved (`reserve:<new>`);
   a refusal deletes the new order and changes nothing else;
3. commit: a compare-and-set on the old order's version turns it REPLACED with `reserved` 0 and
   `replaced_by_id` = the new order. Before this write the old order holds the reservation (the
   new one is a mere candidate); after it, the new one does: never both, never neither. A fill
   of the old order can no longer happen: every fill is a compare-and-set on that version;
4. a surplus is returned (`surplus:<new>`) and the new order goes live (NEW).
A crash between steps leaves a PENDING_NEW order that `recover()` finishes with
`finish_replacement`: committed (step 3 happened) → steps 4; not committed → undo step 2.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from tradegraph.auth.principal import Principal
from tradegraph.decimals import ZERO, plain
from tradegraph.documents import (
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    Portfolio,
    TimeInForce,
)
from tradegraph.errors import AlreadyExists, InsufficientFunds, InsufficientPosition, InvalidInput
from tradegraph.trading.exits import check_exits, exits_of
from tradegraph.trading.order_rules import OrderRequest, check_order
from tradegraph.trading.orders import OrdersService
from tradegraph.trading.portfolios import check_can_change
from tradegraph.trading.settlement import finish_replacement, release_for, reserve_for

MAX_ATTEMPTS = 5  # the old order kept changing under us (fills): give up with CONFLICT


@dataclass(frozen=True)
class ReplaceRequest:
    """What changes; None keeps the old order's value."""

    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    time_in_force: TimeInForce | None = None


def replaced_request(old: Order, changes: ReplaceRequest) -> OrderRequest:
    """The old order's parameters with the changes applied (a new trail replaces the old one)."""
    trail_price, trail_percent = old.trail_price, old.trail_percent
    if changes.trail_price is not None or changes.trail_percent is not None:
        trail_price, trail_percent = changes.trail_price, changes.trail_percent
    return OrderRequest(
        portfolio_id=str(old.portfolio_id),
        symbol=old.symbol,
        side=old.side,
        type=old.type,
        quantity=changes.quantity if changes.quantity is not None else old.quantity,
        time_in_force=changes.time_in_force or old.time_in_force,
        limit_price=changes.limit_price if changes.limit_price is not None else old.limit_price,
        stop_price=changes.stop_price if changes.stop_price is not None else old.stop_price,
        trail_price=trail_price,
        trail_percent=trail_percent,
    )


def check_replaceable(old: Order, request: OrderRequest) -> None:
    if not old.status.is_open:
        raise AlreadyExists(
            f"order {old.id} is {old.status.value}; only NEW and PARTIALLY_FILLED orders can "
            "be replaced",
            status=old.status.value,
        )
    if old.oco_group and request.quantity != old.quantity:
        # The pair shares one reservation sized for its legs: a new size needs a new pair.
        raise InvalidInput(
            "the quantity of an OCO or bracket exit cannot change; cancel the pair and place "
            "a new one",
            field="quantity",
        )
    if request.quantity < old.filled_quantity:
        raise InvalidInput(
            f"quantity {plain(request.quantity)} is below what has filled "
            f"({plain(old.filled_quantity)})",
            field="quantity",
        )


async def _check_held_exits(old: Order, request: OrderRequest) -> None:
    """A BRACKET or OTO entry that has not filled yet holds its exits: a new limit price must
    still lie between them (BAD_USER_INPUT otherwise, as when placing it)."""
    if old.order_class not in (OrderClass.BRACKET, OrderClass.OTO) or old.parent_id is not None:
        return
    if request.limit_price == old.limit_price:
        return
    legs = await Order.find({"parent_id": old.id, "status": OrderStatus.HELD.value}).to_list()
    if legs:
        check_exits(request, exits_of(old.order_class, legs))


class Replacements:
    """replaceOrder: a new order takes over an open order's rest and reservation."""

    def __init__(self, orders: OrdersService) -> None:
        self.orders = orders

    async def replace(self, principal: Principal, order_id: str, changes: ReplaceRequest) -> Order:
        old = await self.orders.get(principal, order_id)
        check_can_change(principal, old.owner_id)
        portfolio = await Portfolio.get(old.portfolio_id)
        assert portfolio is not None
        instrument = await self.orders.instruments.require(old.symbol)
        for _ in range(MAX_ATTEMPTS):
            request = replaced_request(old, changes)
            check_order(request, instrument, portfolio)
            check_replaceable(old, request)
            await _check_held_exits(old, request)
            new = await self._candidate(old, request)
            committed = await self._commit(old, new)
            if committed is not None:
                return committed
            fresh = await Order.get(old.id)
            assert fresh is not None
            old = fresh
        raise AlreadyExists(
            f"order {order_id} kept changing while being replaced; try again", order_id=order_id
        )

    async def _candidate(self, old: Order, request: OrderRequest) -> Order:
        """Step 1 and 2: the new order, PENDING_NEW, with its reservation in place."""
        orders = self.orders
        instrument = await orders.instruments.require(old.symbol)
        portfolio = await Portfolio.get(old.portfolio_id)
        assert portfolio is not None
        new = orders.new_order(request, instrument, portfolio, uuid.uuid4().hex)
        new.filled_quantity = old.filled_quantity  # the new order counts what the old one did
        new.filled_notional = old.filled_notional
        new.order_class, new.parent_id, new.oco_group = (
            old.order_class,
            old.parent_id,
            old.oco_group,
        )
        new.replaces_id = old.id
        if new.type is OrderType.TRAILING_STOP:
            new.high_water_mark, new.triggered = old.high_water_mark, old.triggered
        elif (
            new.type in (OrderType.STOP, OrderType.STOP_LIMIT) and new.stop_price == old.stop_price
        ):
            new.triggered = old.triggered  # a fired stop stays fired unless its stop moved
        quote = await orders.market.latest(old.symbol)
        rest = new.quantity - new.filled_quantity
        reserve = orders.reservation(new, instrument, quote.ask if quote else None, rest)
        if reserve is None:
            raise InvalidInput(
                f"no quote for {old.symbol} yet: cannot price the replacement", field="type"
            )
        if old.oco_group and old.reserved == 0:
            reserve = ZERO  # an OCO leg whose peer holds the pair's reservation
        new.reserved = reserve
        new.reserve_delta = reserve - old.reserved
        await new.insert()
        if new.reserve_delta > 0 and not await reserve_for(
            new, f"reserve:{new.id}", new.reserve_delta
        ):
            await new.delete()  # a refused replacement leaves nothing behind
            if new.side.value == "BUY":
                raise InsufficientFunds(
                    f"the replacement needs {plain(new.reserve_delta)} {portfolio.base_currency} "
                    f"more than the order held; {plain(portfolio.available)} is available",
                    required=plain(new.reserve_delta),
                    available=plain(portfolio.available),
                )
            raise InsufficientPosition(
                f"cannot sell {plain(new.reserve_delta)} more {new.symbol}: not held, or "
                "already promised to open SELL orders",
                symbol=new.symbol,
            )
        return new

    async def _commit(self, old: Order, new: Order) -> Order | None:
        """Step 3 and 4; None (and the candidate undone) when the old order moved on."""
        orders = self.orders
        async with orders.market.lock(old.symbol):  # no local fill interleaves
            replaced = await orders.execution.hand_over(old, new)
        if replaced is None:
            if new.reserve_delta and new.reserve_delta > 0:
                await release_for(new, f"release:{new.id}", new.reserve_delta)
            await new.delete()
            return None
        await finish_replacement(new)
        live = await Order.get(new.id)
        assert live is not None
        await orders.execution.publish(replaced)
        await orders.execution.publish(live)
        if live.status is OrderStatus.FILLED:
            done: Order = live.model_copy(update={"reserved": ZERO})
            return done
        return await orders.engine.match_new(live)
