"""How each channel's messages are decoded, registered on the broker in one place at startup.
A process decodes a message once, however many local subscribers it has."""

from __future__ import annotations

from tradegraph.events.service import decode_events
from tradegraph.insights.service import decode_insight
from tradegraph.markets.quotes import decode_quote
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import (
    EVENTS_CREATED,
    INSIGHTS_CREATED,
    ORDER_EVENTS_PREFIX,
    ORDERS_PREFIX,
    QUOTES_PREFIX,
)
from tradegraph.trading.execution import decode_order
from tradegraph.trading.order_events import decode_order_event


def register_decoders(broker: Broker) -> None:
    """Channels not named here (portfolio hints, backtest progress) are plain JSON."""
    broker.set_decoder(EVENTS_CREATED, decode_events)
    broker.set_decoder(QUOTES_PREFIX, decode_quote)
    broker.set_decoder(ORDERS_PREFIX, decode_order)
    broker.set_decoder(ORDER_EVENTS_PREFIX, decode_order_event)
    broker.set_decoder(INSIGHTS_CREATED, decode_insight)
