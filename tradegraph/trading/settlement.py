"""Applying fills, cash movements and reservations without transactions.

Every change that spans documents is a sequence of idempotent steps with a journal first:
- a fill is pushed onto its order (`fills` and `unsettled`) by a compare-and-set on the order's
  version; then the ledger entry is upserted, the portfolio's cash moved and the position
  updated, each guarded by the step id it records in `applied`; then `unsettled` is cleared;
- a deposit or withdrawal is a ledger entry written first (`applied: false`), then the cash;
- a reservation is released once per order (`release:<order id>`).
`recover()` finishes whatever a crash interrupted; it runs at startup and then periodically, so
a process that died mid-way is repaired by any other. Re-running a step changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from tradegraph.decimals import COST_QUANTUM, ZERO, to_bson
from tradegraph.documents import (
    Fill,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderStatus,
    Portfolio,
    Position,
    Side,
)
from tradegraph.documents.portfolios import AppliedFill

log = structlog.get_logger(__name__)

PORTFOLIO_MARKERS = 500  # step ids a portfolio remembers; far more than can be in flight
POSITION_MARKERS = 200
STALE_AFTER = timedelta(seconds=30)  # in-flight work younger than this is left to its owner


def cash_change(side: Side, fill: Fill) -> Decimal:
    """Signed change of cash: a BUY pays price·quantity plus the fee, a SELL receives it less."""
    notional = fill.quantity * fill.price
    return -(notional + fill.fee) if side is Side.BUY else notional - fill.fee


def _push(field: str, value: Any, keep: int) -> dict[str, Any]:
    return {field: {"$each": [to_bson(value)], "$slice": -keep}}


async def apply_to_portfolio(
    portfolio_id: PydanticObjectId,
    step_id: str,
    cash: Decimal,
    available: Decimal,
    require_available: Decimal | None = None,
    cash_at_most: Decimal | None = None,
) -> bool:
    """$inc cash and available once per step id; False when already applied or refused by
    `require_available` (the available cash that must be there first) or `cash_at_most` (the
    most cash there may be first)."""
    match: dict[str, Any] = {"_id": portfolio_id, "applied": {"$ne": step_id}}
    if require_available is not None:
        match["available"] = {"$gte": to_bson(require_available)}
    if cash_at_most is not None:
        match["cash"] = {"$lte": to_bson(cash_at_most)}
    result = await Portfolio.get_pymongo_collection().update_one(
        match,
        {
            "$inc": to_bson({"cash": cash, "available": available}),
            "$push": _push("applied", step_id, PORTFOLIO_MARKERS),
        },
    )
    return result.modified_count == 1


async def portfolio_has_applied(portfolio_id: PydanticObjectId, step_id: str) -> bool:
    collection = Portfolio.get_pymongo_collection()
    return await collection.count_documents({"_id": portfolio_id, "applied": step_id}) > 0


async def reserve_position(
    portfolio_id: PydanticObjectId, symbol: str, step_id: str, quantity: Decimal
) -> bool:
    """Moves `quantity` out of the position's available quantity, once per step id."""
    result = await Position.get_pymongo_collection().update_one(
        {
            "portfolio_id": portfolio_id,
            "symbol": symbol,
            "available": {"$gte": to_bson(quantity)},
            "applied.id": {"$ne": step_id},
        },
        {
            "$inc": to_bson({"available": -quantity}),
            "$push": _push("applied", AppliedFill(id=step_id, realized_pnl=ZERO), POSITION_MARKERS),
        },
    )
    return result.modified_count == 1


async def release_position(
    portfolio_id: PydanticObjectId, symbol: str, step_id: str, quantity: Decimal
) -> None:
    await Position.get_pymongo_collection().update_one(
        {"portfolio_id": portfolio_id, "symbol": symbol, "applied.id": {"$ne": step_id}},
        {
            "$inc": to_bson({"available": quantity}),
            "$push": _push("applied", AppliedFill(id=step_id, realized_pnl=ZERO), POSITION_MARKERS),
        },
    )


async def position_has_applied(portfolio_id: PydanticObjectId, symbol: str, step: str) -> bool:
    collection = Position.get_pymongo_collection()
    match = {"portfolio_id": portfolio_id, "symbol": symbol, "applied.id": step}
    return await collection.count_documents(match) > 0


def _position_after(position: Position, side: Side, fill: Fill) -> tuple[dict[str, Any], Decimal]:
    """The position's new values and the fill's realized P&L (average-cost method)."""
    notional = fill.quantity * fill.price
    if side is Side.BUY:
        values = {
            "quantity": position.quantity + fill.quantity,
            "available": position.available + fill.quantity,
            "cost_basis": position.cost_basis + notional + fill.fee,
        }
        return values, ZERO
    if fill.quantity >= position.quantity:
        basis_out = position.cost_basis
    else:
        basis_out = (position.cost_basis * fill.quantity / position.quantity).quantize(COST_QUANTUM)
    realized = notional - fill.fee - basis_out
    values = {
        "quantity": position.quantity - fill.quantity,
        "cost_basis": position.cost_basis - basis_out,
        "realized_pnl": position.realized_pnl + realized,
    }
    return values, realized


async def apply_to_position(order: Order, fill: Fill) -> Decimal:
    """Applies the fill to the position once; returns its realized P&L (recorded with it)."""
    while True:
        position = await Position.find_one(
            Position.portfolio_id == order.portfolio_id, Position.symbol == order.symbol
        )
        if position is None:
            position = Position(
                portfolio_id=order.portfolio_id,
                symbol=order.symbol,
                quantity=ZERO,
                available=ZERO,
                cost_basis=ZERO,
                realized_pnl=ZERO,
                updated_at=fill.timestamp,
            )
            values, realized = _position_after(position, order.side, fill)
            new = position.model_copy(
                update={**values, "applied": [AppliedFill(id=fill.id, realized_pnl=realized)]}
            )
            try:
                await new.insert()
                return realized
            except DuplicateKeyError:
                continue  # created meanwhile: apply to that one
        for marker in position.applied:
            if marker.id == fill.id:
                return marker.realized_pnl
        values, realized = _position_after(position, order.side, fill)
        marker = AppliedFill(id=fill.id, realized_pnl=realized)
        result = await Position.get_pymongo_collection().update_one(
            {"_id": position.id, "version": position.version},
            {
                "$set": to_bson({**values, "updated_at": fill.timestamp}),
                "$inc": {"version": 1},
                "$push": _push("applied", marker, POSITION_MARKERS),
            },
        )
        if result.modified_count == 1:
            return realized


async def settle_fill(order: Order, fill: Fill) -> None:
    """Ledger, cash and position for a fill the order has journaled; safe to repeat."""
    cash = cash_change(order.side, fill)
    entry = LedgerEntry(
        id=fill.id,
        portfolio_id=order.portfolio_id,
        kind=LedgerKind.FILL,
        amount=cash,
        timestamp=fill.timestamp,
        symbol=order.symbol,
        side=order.side,
        quantity=fill.quantity,
        price=fill.price,
        fee=fill.fee,
    )
    document = to_bson(entry.model_dump(exclude={"id"}))  # _id comes from the filter
    await LedgerEntry.get_pymongo_collection().update_one(
        {"_id": fill.id}, {"$setOnInsert": document}, upsert=True
    )
    # A BUY spends cash its order had reserved (already out of `available`); a SELL adds both.
    available = ZERO if order.side is Side.BUY else cash
    await apply_to_portfolio(order.portfolio_id, fill.id, cash, available)
    realized = await apply_to_position(order, fill)
    await LedgerEntry.get_pymongo_collection().update_one(
        {"_id": fill.id}, {"$set": to_bson({"applied": True, "realized_pnl": realized})}
    )
    await Order.get_pymongo_collection().update_one(
        {"_id": order.id}, {"$pull": {"unsettled": fill.id}}
    )


async def release_reservation(order: Order) -> None:
    """Returns what a finished order still reserved; once, however often it is called."""
    step = f"release:{order.id}"
    if order.reserved > 0:
        if order.side is Side.BUY:
            await apply_to_portfolio(order.portfolio_id, step, ZERO, order.reserved)
        else:
            await release_position(order.portfolio_id, order.symbol, step, order.reserved)
    await Order.get_pymongo_collection().update_one(
        {"_id": order.id}, {"$set": {"release_pending": False, "reserved": to_bson(ZERO)}}
    )


async def reserve_for(order: Order, step: str, amount: Decimal) -> bool:
    """Reserves `amount` more for `order` (BUY: available cash; SELL: available quantity),
    once per step; False when it is not there."""
    if order.side is Side.BUY:
        done = await apply_to_portfolio(
            order.portfolio_id, step, ZERO, -amount, require_available=amount
        )
        return done or await portfolio_has_applied(order.portfolio_id, step)
    done = await reserve_position(order.portfolio_id, order.symbol, step, amount)
    return done or await position_has_applied(order.portfolio_id, order.symbol, step)


async def has_reserved(order: Order, step: str) -> bool:
    if order.side is Side.BUY:
        return await portfolio_has_applied(order.portfolio_id, step)
    return await position_has_applied(order.portfolio_id, order.symbol, step)


async def release_for(order: Order, step: str, amount: Decimal) -> None:
    """Returns `amount` of what `order` reserved, once per step."""
    if order.side is Side.BUY:
        await apply_to_portfolio(order.portfolio_id, step, ZERO, amount)
    else:
        await release_position(order.portfolio_id, order.symbol, step, amount)


async def finish_replacement(order: Order) -> bool:
    """A replacement (still PENDING_NEW): the old order's compare-and-set to REPLACED is the
    commit point. Committed: return the surplus and make the new order live. Not committed:
    return the extra it reserved and forget it. True when it was committed."""
    old = await Order.get(order.replaces_id)
    delta = order.reserve_delta or ZERO
    if old is not None and old.replaced_by_id == order.id:
        if delta < 0:
            await release_for(order, f"surplus:{order.id}", -delta)
        status = OrderStatus.FILLED if order.filled_quantity >= order.quantity else OrderStatus.NEW
        await Order.get_pymongo_collection().update_many(
            {"parent_id": old.id}, {"$set": {"parent_id": order.id}}
        )  # legs follow their entry (or OCO first leg) to its replacement
        await Order.get_pymongo_collection().update_one(
            {"_id": order.id, "status": OrderStatus.PENDING_NEW.value},
            {"$set": {"status": status.value, "events_pending": True}, "$inc": {"version": 1}},
        )
        return True
    if delta > 0 and await has_reserved(order, f"reserve:{order.id}"):
        await release_for(order, f"release:{order.id}", delta)
    await Order.get_pymongo_collection().delete_one(
        {"_id": order.id, "status": OrderStatus.PENDING_NEW.value}
    )
    return False


async def abandon_pending_order(order: Order) -> None:
    """An order whose placement never completed: undo its reservation, then forget it."""
    step = f"reserve:{order.id}"
    if order.side is Side.BUY:
        if await portfolio_has_applied(order.portfolio_id, step):
            await apply_to_portfolio(
                order.portfolio_id, f"release:{order.id}", ZERO, order.reserved
            )
    elif await position_has_applied(order.portfolio_id, order.symbol, step):
        await release_position(
            order.portfolio_id, order.symbol, f"release:{order.id}", order.reserved
        )
    await Order.get_pymongo_collection().delete_one(
        {"_id": order.id, "status": OrderStatus.PENDING_NEW.value}
    )


async def apply_cash_entry(entry: LedgerEntry, cash_cap: Decimal | None = None) -> bool:
    """Deposit or withdrawal journaled in the ledger → cash; False when funds are short or a
    deposit would take cash past `cash_cap` (the entry is then removed: a refused movement
    leaves nothing behind)."""
    needed = -entry.amount if entry.amount < 0 else None
    at_most = cash_cap - entry.amount if cash_cap is not None and entry.amount > 0 else None
    applied = await apply_to_portfolio(
        entry.portfolio_id,
        entry.id,
        entry.amount,
        entry.amount,
        require_available=needed,
        cash_at_most=at_most,
    )
    if applied or await portfolio_has_applied(entry.portfolio_id, entry.id):
        await LedgerEntry.find_one(LedgerEntry.id == entry.id).set({"applied": True})
        return True
    await LedgerEntry.find_one(LedgerEntry.id == entry.id).delete()
    return False


async def recover(now: datetime | None = None) -> int:
    """Completes interrupted steps older than STALE_AFTER; returns how many it touched."""
    before = (now or datetime.now(UTC)) - STALE_AFTER
    touched = 0
    async for order in Order.find(
        {"unsettled.0": {"$exists": True}, "updated_at": {"$lt": before}}
    ):
        for fill in order.fills:
            if fill.id in order.unsettled:
                await settle_fill(order, fill)
                touched += 1
    async for order in Order.find({"release_pending": True, "updated_at": {"$lt": before}}):
        await release_reservation(order)
        touched += 1
    async for order in Order.find(
        {"status": OrderStatus.PENDING_NEW.value, "created_at": {"$lt": before}}
    ):
        if order.replaces_id is not None:
            await finish_replacement(order)
        else:
            await abandon_pending_order(order)
        touched += 1
    async for entry in LedgerEntry.find(
        {"applied": False, "kind": {"$ne": LedgerKind.FILL.value}, "timestamp": {"$lt": before}}
    ):
        await apply_cash_entry(entry)
        touched += 1
    if touched:
        log.warning("recovered interrupted trading steps", steps=touched)
    return touched
