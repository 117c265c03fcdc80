"""Order state changes: fills and endings, each a compare-and-set on the order's version,
followed by settlement and a published update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradegraph.decimals import ZERO, fee_of, to_bson
from tradegraph.documents import Fill, Order, OrderStatus, Side
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import order_channel, portfolio_channel
from tradegraph.pubsub.failures import RepeatedFailure
from tradegraph.trading.order_events import OrderEventLog
from tradegraph.trading.settlement import cash_change, release_reservation, settle_fill


def decode_order(message: str) -> Order:
    order: Order = Order.model_validate_json(message)
    return order


OnFinished = Callable[[Order], Awaitable[None]]
OnChanged = Callable[[Order], None]


class Execution:
    def __init__(self, broker: Broker, fee_bps: Decimal) -> None:
        self.broker = broker
        self.fee_bps = fee_bps
        self.order_events = OrderEventLog(broker)
        self.record_failures = RepeatedFailure("recording order events failed; recovery retries")
        self._on_finished: list[OnFinished] = []
        self._on_changed: list[OnChanged] = []

    def on_changed(self, listener: OnChanged) -> None:
        """`listener` hears of every order a compare-and-set changed, as it now is (the
        matching engine's order book). Synchronous: it must not wait for anything."""
        self._on_changed.append(listener)

    def on_finished(self, listener: OnFinished) -> None:
        """`listener` hears of every order that stops being open (not REPLACED): order
        classes activate or cancel legs. It must not take the symbol's lock (held here)."""
        self._on_finished.append(listener)

    async def _finished(self, order: Order) -> None:
        for listener in self._on_finished:
            await listener(order)

    async def swap(self, order: Order, changes: dict[str, Any]) -> Order | None:
        """A compare-and-set of `changes` on the order's version; None when it moved on."""
        return await self._swap(order, changes)

    async def publish(self, order: Order, fill: Fill | None = None) -> None:
        """Tells orderUpdates of the change and records its order events (orderEvents)."""
        try:
            await self.order_events.record(order, fill)
        except Exception as error:  # the change is committed; recovery records what is pending
            self.record_failures.failed(error, order_id=str(order.id))
        else:
            self.record_failures.recovered()
        await self.broker.publish(order_channel(str(order.portfolio_id)), order.model_dump_json())

    async def portfolio_changed(self, order: Order) -> None:
        await self.broker.publish(portfolio_channel(str(order.portfolio_id)), "{}")

    async def _swap(
        self, order: Order, changes: dict[str, Any], push: dict[str, Any] | None = None
    ) -> Order | None:
        """Applies `changes` if the order is still at the version read; None when it moved on."""
        now = datetime.now(UTC)
        if "status" in changes or (push and "fills" in push):
            changes = {**changes, "events_pending": True}  # cleared once they are recorded
        update: dict[str, Any] = {
            "$set": to_bson({**changes, "updated_at": now}),
            "$inc": {"version": 1},
        }
        if push:
            update["$push"] = to_bson(push)
        result = await Order.get_pymongo_collection().update_one(
            {"_id": order.id, "version": order.version}, update
        )
        if result.modified_count != 1:
            return None
        swapped: Order = order.model_copy(
            update={
                **changes,
                "updated_at": now,
                "version": order.version + 1,
                **{k: [*getattr(order, k), v] for k, v in (push or {}).items()},
            }
        )
        for listener in self._on_changed:
            listener(swapped)
        return swapped

    async def mark_triggered(
        self, order: Order, high_water_mark: Decimal | None = None
    ) -> Order | None:
        changes: dict[str, Any] = {"triggered": True}
        if high_water_mark is not None:
            changes["high_water_mark"] = high_water_mark
        return await self._swap(order, changes)

    async def move_mark(self, order: Order, high_water_mark: Decimal) -> Order | None:
        """A trailing stop's mark follows the market (not published: it is no order event)."""
        return await self._swap(order, {"high_water_mark": high_water_mark})

    async def hand_over(self, old: Order, new: Order) -> Order | None:
        """The commit point of replaceOrder: `old` (at the version read, still open) becomes
        REPLACED and its reservation is `new`'s. None when `old` changed meanwhile."""
        if not old.status.is_open:
            return None
        return await self._swap(
            old,
            {
                "status": OrderStatus.REPLACED,
                "replaced_by_id": new.id,
                "reserved": ZERO,
                "release_pending": False,
            },
        )

    async def activate(self, order: Order) -> Order | None:
        """PENDING_NEW → NEW once the reservation is in place."""
        activated = await self._swap(order, {"status": OrderStatus.NEW})
        if activated is not None:
            await self.publish(activated)
        return activated

    async def fill(
        self,
        order: Order,
        quantity: Decimal,
        price: Decimal,
        cash_places: int,
        end_reason: str | None = None,
    ) -> Order | None:
        """Journals a fill on the order, then settles it. `end_reason` cancels what is left.
        None when the order changed meanwhile (the caller re-reads and decides again)."""
        journaled = await self.journal_fill(order, quantity, price, cash_places, end_reason)
        if journaled is None:
            return None
        updated, fill = journaled
        await settle_fill(updated, fill)
        if updated.release_pending:
            await release_reservation(updated)
        settled: Order = updated.model_copy(update={"unsettled": [], "release_pending": False})
        if not settled.status.is_open:
            settled = settled.model_copy(update={"reserved": ZERO})
        await self.publish(settled, fill)
        await self.portfolio_changed(settled)
        if not settled.status.is_open:
            await self._finished(settled)
        return settled

    async def journal_fill(
        self,
        order: Order,
        quantity: Decimal,
        price: Decimal,
        cash_places: int,
        end_reason: str | None = None,
    ) -> tuple[Order, Fill] | None:
        """Step one of a fill: the order records it (and that it is unsettled) atomically."""
        fee = fee_of(quantity * price, self.fee_bps, cash_places)
        fill = Fill(
            id=f"{order.id}:{len(order.fills) + 1}",
            quantity=quantity,
            price=price,
            fee=fee,
            timestamp=datetime.now(UTC),
        )
        filled = order.filled_quantity + quantity
        spent = -cash_change(order.side, fill) if order.side is Side.BUY else quantity
        reserved = order.reserved - spent
        if filled >= order.quantity:
            status, reason = OrderStatus.FILLED, None
        elif end_reason is not None:
            status, reason = OrderStatus.CANCELED, end_reason
        else:
            status, reason = OrderStatus.PARTIALLY_FILLED, None
        changes: dict[str, Any] = {
            "status": status,
            "filled_quantity": filled,
            "reserved": reserved,
            "filled_notional": order.filled_notional + quantity * price,
            "release_pending": not status.is_open and reserved > 0,
        }
        if reason:
            changes["reject_reason"] = reason
        updated = await self._swap(order, changes, push={"fills": fill, "unsettled": fill.id})
        return None if updated is None else (updated, fill)

    async def end(self, order: Order, status: OrderStatus, reason: str) -> Order | None:
        """CANCELED, EXPIRED or REJECTED: ends an open order and returns its reservation."""
        updated = await self._swap(
            order,
            {"status": status, "reject_reason": reason, "release_pending": order.reserved > 0},
        )
        if updated is None:
            return None
        ended = await self._released_and_told(updated)
        await self._finished(ended)
        return ended

    async def _released_and_told(self, order: Order) -> Order:
        """Returns what a finished order still reserved, then tells subscribers of the change."""
        if order.release_pending:
            await release_reservation(order)
        changes: dict[str, Any] = {"release_pending": False}
        if not order.status.is_open:
            changes["reserved"] = ZERO
        order = order.model_copy(update=changes)
        await self.publish(order)
        await self.portfolio_changed(order)
        return order
