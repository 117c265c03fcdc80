"""The outbox's ordering rules, with the store and the broker replaced by lists."""

from __future__ import annotations

import pytest

from tradegraph.pubsub.outbox import Outbox, StoredMessage


class ListStore:
    """An OutboxStore in a list; `claimed_by` says which owner may drain."""

    def __init__(self) -> None:
        self.entries: list[StoredMessage] = []
        self.next_key = 0
        self.claimed_by: str | None = None
        self.down = False

    async def append(self, channel: str, message: str) -> None:
        if self.down:
            raise ConnectionError("store down")
        self.next_key += 1
        self.entries.append(StoredMessage(self.next_key, channel, message))

    async def oldest(self, limit: int) -> list[StoredMessage]:
        return self.entries[:limit]

    async def remove(self, key: object) -> None:
        self.entries = [entry for entry in self.entries if entry.key != key]

    async def claim(self, owner: str, seconds: float) -> bool:
        if self.claimed_by in (None, owner):
            self.claimed_by = owner
            return True
        return False


class Transport:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False

    async def send(self, channel: str, message: str) -> None:
        if self.down:
            raise ConnectionError("Connection refused")
        self.sent.append((channel, message))


@pytest.fixture
def store() -> ListStore:
    return ListStore()


@pytest.fixture
def broker() -> Transport:
    return Transport()


@pytest.fixture
def outbox(store: ListStore, broker: Transport) -> Outbox:
    return Outbox(store, broker.send, poll_seconds=1.0)


async def test_a_publish_the_broker_takes_never_touches_the_store(
    outbox: Outbox, store: ListStore, broker: Transport
) -> None:
    await outbox.publish("orders.1", "a")
    assert broker.sent == [("orders.1", "a")]
    assert store.entries == []
    assert not outbox.pending


async def test_messages_the_broker_refuses_are_delivered_later_in_publish_order(
    outbox: Outbox, store: ListStore, broker: Transport
) -> None:
    broker.down = True
    await outbox.publish("orders.1", "a")  # does not raise
    broker.down = False
    await outbox.publish("orders.1", "b")  # the broker works, but "a" is waiting: queue behind
    await outbox.publish("events", "c")
    assert broker.sent == []
    assert [entry.message for entry in store.entries] == ["a", "b", "c"]

    await outbox.drain()
    assert broker.sent == [("orders.1", "a"), ("orders.1", "b"), ("events", "c")]
    assert store.entries == []
    assert not outbox.pending
    await outbox.publish("orders.1", "d")  # drained: straight to the broker again
    assert broker.sent[-1] == ("orders.1", "d")
    assert (outbox.queued, outbox.delivered) == (3, 3)


async def test_a_drain_that_fails_keeps_what_it_did_not_deliver(
    outbox: Outbox, store: ListStore, broker: Transport
) -> None:
    broker.down = True
    for message in "ab":
        await outbox.publish("orders.1", message)
    with pytest.raises(ConnectionError):
        await outbox.drain()
    assert [entry.message for entry in store.entries] == ["a", "b"]
    assert outbox.pending


async def test_entries_left_by_another_process_make_publishes_queue_behind_them(
    outbox: Outbox, store: ListStore, broker: Transport
) -> None:
    await store.append("orders.1", "theirs")
    store.claimed_by = "another process"
    await outbox.drain()  # sees the entry, may not drain it
    assert outbox.pending
    assert broker.sent == []
    await outbox.publish("orders.1", "ours")
    assert [entry.message for entry in store.entries] == ["theirs", "ours"]


async def test_a_message_neither_broker_nor_store_takes_is_counted_as_lost(
    outbox: Outbox, store: ListStore, broker: Transport
) -> None:
    broker.down = store.down = True
    await outbox.publish("orders.1", "a")  # still does not raise: the caller's write stands
    assert outbox.lost == 1
    assert outbox.store_failures.total == 1
