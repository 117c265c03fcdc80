"""Order classes: BRACKET, OCO and OTO.

- BRACKET / OTO: the entry is placed as usual; its exits are stored HELD (reserving nothing)
  before the entry can fill. When the entry finishes having filled, the exits go live for the
  quantity filled (BRACKET: as an OCO pair); when it finishes unfilled, they are cancelled.
- OCO: the order placed is the take-profit LIMIT; its leg, the stop-loss, is stored HELD
  with it and goes live as soon as the take-profit is (unless that one traded meanwhile).
- An OCO pair shares one reservation, held by one leg (the take-profit, at first). Before any
  leg fills, the engine calls `claim`: every other leg is cancelled, and the holder hands its
  reservation over with one compare-and-set (status CANCELED, `moved_to`, `move_pending`);
  the receiving leg then adds it once (`received`). recover_legs finishes an interrupted
  hand-over and the activation of legs whose entry finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
from beanie import PydanticObjectId

from tradegraph.auth.principal import Principal
from tradegraph.decimals import ZERO, is_multiple, plain, to_bson
from tradegraph.documents import (
    Instrument,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    Portfolio,
)
from tradegraph.errors import InvalidInput
from tradegraph.trading.execution import Execution
from tradegraph.trading.exits import Exits, check_exits, leg_requests, with_changes
from tradegraph.trading.order_rules import OrderRequest
from tradegraph.trading.orders import OrdersService
from tradegraph.trading.settlement import STALE_AFTER, release_for, reserve_for

log = structlog.get_logger(__name__)
OPEN = [OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value]
OCO_CANCELLED = "OCO: the other leg filled"
OCO_ENDED = "OCO: the other leg ended"
ENTRY_UNFILLED = "the entry ended without a fill"


@dataclass
class ClassPlan:
    """The OrderPlan of a BRACKET, OCO or OTO order (see OrdersService.place)."""

    classes: OrderClasses
    request: OrderRequest
    exits: Exits
    legs: list[OrderRequest] = field(default_factory=list)

    def check(self, request: OrderRequest, instrument: Instrument, portfolio: Portfolio) -> None:
        check_exits(request, self.exits)
        for leg in leg_requests(request, self.exits):
            for name, price in (("limitPrice", leg.limit_price), ("stopPrice", leg.stop_price)):
                if price is not None and not is_multiple(price, instrument.tick_size):
                    raise InvalidInput(
                        f"{name} {plain(price)} of an exit is not a multiple of the tick size "
                        f"{plain(instrument.tick_size)}",
                        field="stopLoss" if leg.type is not OrderType.LIMIT else "takeProfit",
                    )
            self.legs.append(leg)
        if self.exits.order_class is OrderClass.OCO:
            self.legs = self.legs[1:]  # the order placed is the take-profit itself

    def shape(self, order: Order) -> None:
        order.order_class = self.exits.order_class
        if self.exits.order_class is OrderClass.OCO:
            order.id = PydanticObjectId()  # chosen now: the pair is named after it
            order.oco_group = str(order.id)

    def reservation(
        self, order: Order, instrument: Instrument, ask: Decimal | None, own: Decimal
    ) -> Decimal:
        if self.exits.order_class is not OrderClass.OCO:
            return own
        return self.classes.pair_reservation(order, self.legs, instrument, ask, own)

    async def store_legs(self, order: Order) -> None:
        await self.classes.store_legs(order, self.legs)

    async def activated(self, order: Order) -> None:
        if order.order_class is OrderClass.OCO:
            async with self.classes.orders.market.lock(order.symbol):  # no local fill between
                fresh = await Order.get(order.id)
                if fresh is not None:
                    await self.classes.activate_legs(fresh)


class OrderClasses:
    """Placing BRACKET / OCO / OTO orders and running their legs."""

    def __init__(self, orders: OrdersService, execution: Execution) -> None:
        self.orders = orders
        self.execution = execution

    async def place(self, principal: Principal, request: OrderRequest, exits: Exits) -> Order:
        if exits.order_class is OrderClass.SIMPLE:
            check_exits(request, exits)
            return await self.orders.place(principal, request)
        if exits.order_class is OrderClass.OCO and request.type is not OrderType.LIMIT:
            raise InvalidInput("an OCO order is its take-profit: type LIMIT", field="type")
        if exits.order_class is OrderClass.OCO and request.limit_price is None:
            request = with_changes(request, limit_price=exits.take_profit)
        if exits.order_class is OrderClass.OCO and request.limit_price != exits.take_profit:
            raise InvalidInput(
                "an OCO order is its take-profit: limitPrice must be takeProfit.limitPrice",
                field="limitPrice",
            )
        return await self.orders.place(principal, request, ClassPlan(self, request, exits))

    def pair_reservation(
        self,
        order: Order,
        legs: list[OrderRequest],
        instrument: Instrument,
        ask: Decimal | None,
        own: Decimal,
    ) -> Decimal:
        """An OCO pair reserves once, enough for whichever leg fills (BUY: the dearer one)."""
        amounts = [own]
        for leg in legs:
            candidate = self.orders.new_order(leg, instrument, _portfolio_of(order), "-")
            amount = self.orders.reservation(candidate, instrument, ask)
            if amount is not None:
                amounts.append(amount)
        return max(amounts)

    async def store_legs(self, parent: Order, legs: list[OrderRequest]) -> None:
        """The legs, stored before the parent can fill: HELD (BRACKET / OTO) or, for an OCO,
        NEW without a reservation of their own (the parent holds the pair's)."""
        instrument = await self.orders.instruments.require(parent.symbol)
        portfolio = _portfolio_of(parent)
        is_oco = parent.order_class is OrderClass.OCO
        for index, leg in enumerate(legs):
            order = self.orders.new_order(
                leg, instrument, portfolio, f"{parent.client_order_id}:leg{index + 1}"[:64]
            )
            order.order_class = parent.order_class
            order.parent_id = parent.id
            order.status = OrderStatus.HELD  # an OCO's too: live once its parent is
            order.oco_group = parent.oco_group if is_oco else None
            if parent.order_class is OrderClass.BRACKET:
                order.oco_group = f"{parent.id}:exits"
            await order.insert()

    # -- the engine's side ------------------------------------------------------------------

    async def claim(self, order: Order) -> Order | None:
        """Before an OCO leg fills: the other legs are cancelled and the pair's reservation is
        this leg's. None when something moved meanwhile (the caller re-reads and retries)."""
        others = await Order.find(
            {
                "oco_group": order.oco_group,
                "_id": {"$ne": order.id},
                "status": {"$in": [*OPEN, OrderStatus.PENDING_NEW.value]},
            }
        ).to_list()
        if any(other.status is OrderStatus.PENDING_NEW for other in others):
            return None  # the pair is still being placed (or replaced): not yet
        for other in others:
            if other.reserved > 0:
                moved = await self.execution.swap(
                    other,
                    {
                        "status": OrderStatus.CANCELED,
                        "reject_reason": OCO_CANCELLED,
                        "reserved": ZERO,
                        "moved_to": order.id,
                        "reserve_delta": other.reserved,
                        "move_pending": True,
                    },
                )
                if moved is None:
                    return None
                await deliver(moved)
                await self.execution.publish(moved.model_copy(update={"move_pending": False}))
            elif await self.execution.end(other, OrderStatus.CANCELED, OCO_CANCELLED) is None:
                return None
        if not others:
            return order
        return await Order.get(order.id)

    async def on_finished(self, order: Order) -> None:
        """After an order ends: an entry activates (or cancels) its legs; an OCO leg that was
        cancelled or expired takes its peers along (they share its reservation)."""
        try:
            if order.parent_id is None and order.order_class is not OrderClass.SIMPLE:
                await self.activate_legs(order)
            ended = order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED)
            if order.oco_group and ended and order.reject_reason != OCO_CANCELLED:
                await self._end_peers(order)
        except Exception:  # recover_legs finishes what failed here
            log.exception("order class follow-up failed", order_id=str(order.id))

    async def _end_peers(self, order: Order) -> None:
        async for peer in Order.find(
            {
                "oco_group": order.oco_group,
                "_id": {"$ne": order.id},
                "status": {"$in": [OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value]},
            }
        ):
            await self.execution.end(peer, OrderStatus.CANCELED, OCO_ENDED)

    async def activate_legs(self, entry: Order) -> None:
        """The entry finished: its HELD legs go live for what it filled, or are cancelled.
        An OCO's first leg is live: its peer goes live too, unless it has traded or ended."""
        if entry.order_class is OrderClass.OCO:
            await self._activate_peers(entry)
            return
        if entry.status.is_open or entry.status in (OrderStatus.PENDING_NEW, OrderStatus.HELD):
            return
        if entry.status is OrderStatus.REPLACED:
            return  # the replacement carries the legs on (see replace.py)
        legs = (
            await Order.find({"parent_id": entry.id, "status": OrderStatus.HELD.value})
            .sort("created_at", "_id")
            .to_list()
        )
        if not legs:
            return
        quantity = entry.filled_quantity
        if quantity <= 0:
            for leg in legs:
                await self.execution.end(leg, OrderStatus.CANCELED, ENTRY_UNFILLED)
            return
        holder = legs[0]
        instrument = await self.orders.instruments.require(entry.symbol)
        quote = await self.orders.market.latest(entry.symbol)
        ask = quote.ask if quote else None
        amounts = [self.orders.reservation(leg, instrument, ask, quantity) for leg in legs]
        amount = max((a for a in amounts if a is not None), default=None)
        if amount is None or not await reserve_for(holder, f"reserve:{holder.id}", amount):
            for leg in legs:
                await self.execution.end(
                    leg, OrderStatus.CANCELED, "the exits could not reserve what they need"
                )
            return
        for leg in legs:
            changes: dict[str, Any] = {"status": OrderStatus.NEW, "quantity": quantity}
            changes["reserved"] = amount if leg.id == holder.id else ZERO
            live = await self.execution.swap(leg, changes)
            if live is not None:
                await self.execution.publish(live)

    async def _activate_peers(self, first: Order) -> None:
        if first.status in (OrderStatus.PENDING_NEW, OrderStatus.REPLACED):
            return
        untouched = first.status is OrderStatus.NEW and first.filled_quantity == 0
        async for leg in Order.find({"parent_id": first.id, "status": OrderStatus.HELD.value}):
            if untouched:
                live = await self.execution.swap(leg, {"status": OrderStatus.NEW})
                if live is not None:
                    await self.execution.publish(live)
            else:
                await self.execution.end(leg, OrderStatus.CANCELED, OCO_CANCELLED)


def _portfolio_of(order: Order) -> Portfolio:
    """A stand-in portfolio for new_order (it reads the owner and the currency only)."""
    return Portfolio(
        id=order.portfolio_id,
        owner_id=order.owner_id,
        name="-",
        base_currency="-",
        cash=ZERO,
        available=ZERO,
        created_at=datetime.now(UTC),
    )


async def deliver(moved: Order) -> None:
    """The second step of an OCO hand-over: the receiving leg adds the reservation once; a leg
    that finished meanwhile returns it instead."""
    assert moved.moved_to is not None
    assert moved.reserve_delta is not None
    amount = moved.reserve_delta
    collection = Order.get_pymongo_collection()
    step = str(moved.id)
    open_statuses = [OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value]
    result = await collection.update_one(
        {"_id": moved.moved_to, "received": {"$ne": step}, "status": {"$in": open_statuses}},
        {"$inc": {"reserved": to_bson(amount), "version": 1}, "$push": {"received": step}},
    )
    if result.modified_count == 0:
        target = await Order.get(moved.moved_to)
        if target is not None and step not in target.received:
            await release_for(moved, f"moved:{moved.id}", amount)
    await collection.update_one({"_id": moved.id}, {"$set": {"move_pending": False}})


async def recover_legs(classes: OrderClasses, now: datetime | None = None) -> int:
    """Finishes hand-overs and leg activations a crash interrupted."""
    before = (now or datetime.now(UTC)) - STALE_AFTER
    touched = 0
    async for moved in Order.find({"move_pending": True, "updated_at": {"$lt": before}}):
        await deliver(moved)
        touched += 1
    parents: set[PydanticObjectId] = set()
    async for leg in Order.find({"status": OrderStatus.HELD.value, "updated_at": {"$lt": before}}):
        if leg.parent_id is not None:
            parents.add(leg.parent_id)
    for parent_id in parents:
        entry = await Order.get(parent_id)
        if entry is None:  # the entry was never placed: its legs go too
            await Order.get_pymongo_collection().update_many(
                {"parent_id": parent_id, "status": OrderStatus.HELD.value},
                {"$set": {"status": OrderStatus.CANCELED.value, "reject_reason": ENTRY_UNFILLED}},
            )
        else:
            await classes.activate_legs(entry)
        touched += 1
    return touched
