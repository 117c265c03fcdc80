"""Order events: one stored record per order change (NEW, PARTIAL_FILL, FILL, CANCELED,
EXPIRED, REJECTED, REPLACED), numbered per portfolio, then published. orderEvents replays
them after a cursor and continues live (subscriptions/resumable.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from beanie import PydanticObjectId

from tradegraph.documents import Fill, Order, OrderEventKind, OrderEventRecord, OrderStatus
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import order_events_channel
from tradegraph.sequences import Sequenced, take_numbers

REPLAY_PAGE = 500
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


class OrderEventLog:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def record(self, order: Order, fill: Fill | None = None) -> list[OrderEventRecord]:
        """Stores the events of a change with the next cursors of its portfolio, then
        publishes them (stored first: a lost message is replayed from the store)."""
        changes = kinds_of(order, fill)
        if not changes:
            return []
        first = await take_numbers(order_sequence(order.portfolio_id), len(changes))
        now = datetime.now(UTC)
        snapshot = order.model_dump(mode="json")
        records = [
            OrderEventRecord(
                portfolio_id=order.portfolio_id,
                seq=first + index,
                kind=kind,
                order=snapshot,
                fill=with_fill.model_dump(mode="json") if with_fill else None,
                timestamp=now,
            )
            for index, (kind, with_fill) in enumerate(changes)
        ]
        await OrderEventRecord.insert_many(records)
        channel = order_events_channel(str(order.portfolio_id))
        for record in records:
            await self.broker.publish(channel, record.model_dump_json())
        return records


async def replay_order_events(
    portfolio_id: PydanticObjectId, after: int
) -> AsyncIterator[Sequenced[OrderEventRecord]]:
    """The portfolio's stored events after cursor number `after`, in order (paged)."""
    while True:
        page = (
            await OrderEventRecord.find({"portfolio_id": portfolio_id, "seq": {"$gt": after}})
            .sort("seq")
            .limit(REPLAY_PAGE)
            .to_list()
        )
        for record in page:
            yield Sequenced(record.seq, record)
        if len(page) < REPLAY_PAGE:
            return
        after = page[-1].seq
