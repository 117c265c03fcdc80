"""Subscriptions the broker ends when its subscribing connection is lost."""

from __future__ import annotations

import pytest

from tradegraph.errors import StreamInterrupted
from tradegraph.pubsub.broker import ConflatingSubscription, Subscription


async def test_an_interrupted_subscription_ends_with_stream_interrupted() -> None:
    subscription: Subscription[int] = Subscription(lambda payload: [payload], 10)
    subscription.offer(1)
    assert subscription.interrupt()
    subscription.offer(2)  # taken no more
    with pytest.raises(StreamInterrupted) as raised:
        async for _ in subscription:
            pass
    assert "subscribe again" in raised.value.message


def test_only_a_resumable_conflating_subscription_outlives_an_interruption() -> None:
    def conflating(resumable: bool) -> ConflatingSubscription[int]:
        return ConflatingSubscription(lambda payload: [payload], lambda item: 0, resumable)

    assert not conflating(resumable=True).interrupt()
    assert conflating(resumable=False).interrupt()


async def test_an_interrupted_conflating_subscription_ends_with_stream_interrupted() -> None:
    subscription: ConflatingSubscription[int] = ConflatingSubscription(
        lambda payload: [payload], lambda item: 0, resumable=False
    )
    subscription.offer(1)
    subscription.interrupt()
    with pytest.raises(StreamInterrupted):
        async for _ in subscription:
            pass
