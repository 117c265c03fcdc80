"""A portfolio's order feeds: its resumable order events, and its orders as they change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from beanie import PydanticObjectId

from tradegraph.documents import Order, OrderEventRecord
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import order_channel, order_events_channel
from tradegraph.sequences import Sequenced, check_not_ahead
from tradegraph.subscriptions.feed_watch import FeedWatch
from tradegraph.subscriptions.resumable import ResumeRules, resume
from tradegraph.trading.order_events import order_sequence, replay_order_events

LIST_INSTEAD = "read the portfolio's orders with the `orders` query"


def _numbered(record: OrderEventRecord) -> list[list[Sequenced[OrderEventRecord]]]:
    return [[Sequenced(record.seq, record)]]


async def order_events(
    broker: Broker,
    watch: FeedWatch,
    portfolio_id: PydanticObjectId,
    after: int | None,
    grace: float,
    limit: int,
) -> AsyncIterator[OrderEventRecord]:
    """Live order events; with `after`, first every stored one after that cursor."""
    sequence = order_sequence(portfolio_id)
    if after is not None:
        await check_not_ahead(sequence, after)
    channel = order_events_channel(str(portfolio_id))
    async with broker.subscribe(channel, _numbered) as live:  # subscribed before replaying
        if after is None:
            async for batch in live:
                for entry in batch:
                    if entry.item is not None:
                        yield entry.item
            return
        rules = ResumeRules(sequence, watch, grace, limit, LIST_INSTEAD)
        replay = partial(replay_order_events, portfolio_id, limit)
        async for record in resume(aiter(live), replay, after, rules):
            yield record


async def order_updates(broker: Broker, portfolio_id: str) -> AsyncIterator[Order]:
    async with broker.subscribe(order_channel(portfolio_id), lambda order: [order]) as live:
        async for order in live:
            yield order
