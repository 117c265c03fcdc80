"""Order events: one stored record per order change (NEW, PARTIAL_FILL, FILL, CANCELED,
EXPIRED, REJECTED, REPLACED), numbered per portfolio, then published. orderEvents replays
them after a cursor and continues live (subscriptions/resumable.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from tradegraph.documents import Fill, Order, OrderEventKind, OrderEventRecord, OrderStatus
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import order_events_channel
from tradegraph.sequences import ReplayPage, Sequenced, take_numbers
from tradegraph.trading.settlement import STALE_AFTER

LIVE_ONCE = (
    OrderStatus.NEW,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.EXPIRED,
    OrderStatus.REPLACED,
)
KIND_OF_STATUS = {
    OrderStatus.NEW: OrderEventKind.NEW,
    OrderStatus.PARTIALLY_FILLED: OrderEventKind.PARTIAL_FILL,
    OrderStatus.FILLED: OrderEventKind.FILL,
    OrderStatus.CANCELED: OrderEventKind.CANCELED,
    OrderStatus.EXPIRED: OrderEventKind.EXPIRED,
    OrderStatus.REJECTED: OrderEventKind.REJECTED,
    OrderStatus.REPLACED: OrderEventKind.REPLACED,
}


def order_sequence(portfolio_id: object) -> str:
    """The name of a portfolio's cursor sequence."""
    return f"orders:{portfolio_id}"


def kinds_of(order: Order, fill: Fill | None) -> list[tuple[OrderEventKind, Fill | None]]:
    """The events one published change makes: a fill that also ended the order (IOC, cash
    spent) is a PARTIAL_FILL then a CANCELED. HELD legs and placements in progress: none."""
    kind = KIND_OF_STATUS.get(order.status)
    if kind is None:
        return []
    if fill is not None and order.status is OrderStatus.CANCELED:
        return [(OrderEventKind.PARTIAL_FILL, fill), (OrderEventKind.CANCELED, None)]
    return [(kind, fill if kind in (OrderEventKind.PARTIAL_FILL, OrderEventKind.FILL) else None)]


def decode_order_event(message: str) -> OrderEventRecord:
    record: OrderEventRecord = OrderEventRecord.model_validate_json(message)
    return record


def event_key(order: Order, kind: OrderEventKind, fill: Fill | None) -> str:
    return f"{order.id}:{kind.value}" + (f":{fill.id}" if fill else "")


def expected_events(order: Order) -> list[tuple[OrderEventKind, Fill | None]]:
    """The events an order's current state implies (for recovery): NEW once it was live,
    each fill, and how it ended. Recorded ones are recognised by their key."""
    events: list[tuple[OrderEventKind, Fill | None]] = []
    was_live = order.status in LIVE_ONCE or bool(order.fills)
    if was_live:
        events.append((OrderEventKind.NEW, None))
    for index, fill in enumerate(order.fills):
        last = index == len(order.fills) - 1
        whole = last and order.status is OrderStatus.FILLED
        events.append((OrderEventKind.FILL if whole else OrderEventKind.PARTIAL_FILL, fill))
    ended = KIND_OF_STATUS.get(order.status)
    if ended in (
        OrderEventKind.CANCELED,
        OrderEventKind.EXPIRED,
        OrderEventKind.REJECTED,
        OrderEventKind.REPLACED,
    ):
        events.append((ended, None))
    return events


class OrderEventLog:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def record(self, order: Order, fill: Fill | None = None) -> list[OrderEventRecord]:
        """Stores the events of a change with the next cursors of its portfolio, then
        publishes them (stored first: a lost message is replayed from the store)."""
        return await self._store(order, kinds_of(order, fill))

    async def recover(self, now: datetime | None = None) -> int:
        """Records the events of changes whose process died before recording them."""
        before = (now or datetime.now(UTC)) - STALE_AFTER
        touched = 0
        async for order in Order.find({"events_pending": True, "updated_at": {"$lt": before}}):
            touched += len(await self._store(order, expected_events(order)))
            await _recorded(order)
        return touched

    async def _store(
        self, order: Order, changes: list[tuple[OrderEventKind, Fill | None]]
    ) -> list[OrderEventRecord]:
        keyed = {event_key(order, kind, fill): (kind, fill) for kind, fill in changes}
        if keyed:
            known = OrderEventRecord.find({"key": {"$in": list(keyed)}})
            for record in await known.to_list():
                keyed.pop(record.key, None)  # recorded before: never twice
        if not keyed:
            await _recorded(order)
            return []
        first = await take_numbers(order_sequence(order.portfolio_id), len(keyed))
        now = datetime.now(UTC)
        snapshot = order.model_dump(mode="json", exclude={"events_pending"})
        records = [
            OrderEventRecord(
                portfolio_id=order.portfolio_id,
                seq=first + index,
                key=key,
                kind=kind,
                order=snapshot,
                fill=with_fill.model_dump(mode="json") if with_fill else None,
                timestamp=now,
            )
            for index, (key, (kind, with_fill)) in enumerate(keyed.items())
        ]
        stored = []
        for record in records:
            try:
                await record.insert()
            except DuplicateKeyError:
                continue  # recorded concurrently (recovery and a live writer): its number lapses
            stored.append(record)
        await _recorded(order)
        channel = order_events_channel(str(order.portfolio_id))
        for record in stored:
            await self.broker.publish(channel, record.model_dump_json())
        return stored


async def _recorded(order: Order) -> None:
    """Clears `events_pending` unless the order changed again (that change records its own)."""
    await Order.get_pymongo_collection().update_one(
        {"_id": order.id, "version": order.version}, {"$set": {"events_pending": False}}
    )


async def replay_order_events(
    portfolio_id: PydanticObjectId, limit: int, after: int
) -> ReplayPage[OrderEventRecord]:
    """The portfolio's stored events after cursor number `after`, in order, at most `limit` + 1
    (the (portfolio_id, seq) index). Its numbers are dense: a missing one is still being
    written, so nothing past `after` is settled here."""
    found = (
        await OrderEventRecord.find({"portfolio_id": portfolio_id, "seq": {"$gt": after}})
        .sort("seq")
        .limit(limit + 1)
        .to_list()
    )
    return ReplayPage([Sequenced(record.seq, record) for record in found], after)
