"""pubsub/outbox.py: a message queued after a failed send is never overtaken by a later publish
to the same channel."""

from __future__ import annotations

import asyncio

from tradegraph.pubsub.outbox import Outbox, StoredMessage


class SlowStore:
    def __init__(self) -> None:
        self.entries: list[StoredMessage] = []
        self.release = asyncio.Event()

    async def append(self, channel: str, message: str) -> None:
        await self.release.wait()  # a store write takes a moment
        self.entries.append(StoredMessage(len(self.entries), channel, message))

    async def oldest(self, limit: int) -> list[StoredMessage]:
        return self.entries[:limit]

    async def remove(self, key: object) -> None:
        self.entries = [e for e in self.entries if e.key != key]

    async def claim(self, owner: str, seconds: float) -> bool:
        return True


async def test_a_publish_after_a_broker_blip_waits_behind_the_queued_message() -> None:
    delivered: list[str] = []
    failures = iter([True])  # the broker refuses the first send only

    async def send(channel: str, message: str) -> None:
        if next(failures, False):
            raise ConnectionError("broker blip")
        delivered.append(message)

    store = SlowStore()
    outbox = Outbox(store, send, poll_seconds=0.01)
    first = asyncio.create_task(outbox.publish("orders.p1", "A"))
    await asyncio.sleep(0)  # A failed and is being appended (the store write takes a moment)
    second = asyncio.create_task(outbox.publish("orders.p1", "B"))  # the broker is back now
    await asyncio.sleep(0)
    store.release.set()
    await asyncio.gather(first, second)
    await outbox.drain()
    assert delivered == ["A", "B"]
