"""The broker: broadcaster for transport, with bounded per-subscriber fan-out on top.

broadcaster gives every subscriber an unbounded queue and races when two tasks subscribe to a
new channel at once. Here each process holds one broadcaster subscription per channel (opened
under a lock, reference counted) and a pump task hands each message to local subscribers, whose
queues are bounded: a subscriber that falls behind is ended with `SubscriberTooSlow` instead of
letting memory grow.

Faults (README "When Redis fails"): `publish` never raises into the caller, whose write is
already committed; with an outbox attached the message waits there until the broker is back.
`publish_latest` is for last-value messages (quotes, progress) and drops them while the broker
is down. When the connection Redis delivers messages on is lost, every ordered subscription is
ended with `StreamInterrupted` (it may have missed messages); resumable ones (quotes) go on.

A task may ask to be told of the subscriptions it opens (`observe_subscriptions`): a consumer
that serves many clients from one subscription sets its `weight` (subscriber counts count it that
many times) and reads `last_key`, the conflation key of the item it handed out last.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import structlog
from broadcaster import Broadcast

from tradegraph.errors import StreamInterrupted, SubscriberTooSlow
from tradegraph.pubsub.failures import RepeatedFailure
from tradegraph.pubsub.outbox import Outbox
from tradegraph.pubsub.redis_backend import RedisPubSubBackend

log = structlog.get_logger(__name__)

T = TypeVar("T")
Decode = Callable[[str], Any]


_OVERFLOW = object()
_INTERRUPTED = object()
INTERRUPTED_MESSAGE = (
    "the connection to the message broker was lost, so messages may have been missed; "
    "query the current state and subscribe again"
)


_opened: ContextVar[Callable[[Subscription[Any]], None] | None] = ContextVar(
    "tradegraph_subscription_observer", default=None
)


def observe_subscriptions(observer: Callable[[Subscription[Any]], None]) -> None:
    """`observer` is called with each subscription opened from now on in this task."""
    _opened.set(observer)


class Subscription(Generic[T]):
    """One local subscriber: the items `select` picks from each message, in a bounded queue."""

    def __init__(self, select: Callable[[Any], Iterable[T]], max_queued: int) -> None:
        self._select = select
        self._queue: asyncio.Queue[Any] = asyncio.Queue(max_queued)
        self.max_queued = max_queued
        self.overflowed = False
        self.interrupted = False
        self.weight = 1  # how many subscribers this one stands for (its consumer may say more)
        self.last_key: Any = None  # conflation key of the item handed out last, where there is one
        if (observer := _opened.get()) is not None:
            observer(self)

    def offer(self, payload: Any) -> None:
        if self.overflowed or self.interrupted:
            return
        for item in self._select(payload):
            try:
                self._queue.put_nowait(item)
            except asyncio.QueueFull:
                self.overflowed = True
                while not self._queue.empty():
                    self._queue.get_nowait()
                self._queue.put_nowait(_OVERFLOW)
                return

    def interrupt(self) -> bool:
        """Ends this subscription with StreamInterrupted after what it already holds is lost
        too (the client re-queries anyway). False when it was already ending."""
        if self.overflowed or self.interrupted:
            return False
        self.interrupted = True  # takes nothing more
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_INTERRUPTED)
        return True

    async def __aiter__(self) -> AsyncIterator[T]:
        while True:
            item = await self._queue.get()
            if item is _INTERRUPTED:
                raise StreamInterrupted(INTERRUPTED_MESSAGE)
            if item is _OVERFLOW:
                raise SubscriberTooSlow(
                    f"more than {self.max_queued} messages were waiting for this subscriber; "
                    "subscribe again and query what was missed"
                )
            yield item


class ConflatingSubscription(Subscription[T]):
    """Keeps only the newest item per key: a slow reader skips stale values, memory stays
    bounded by the number of keys, and it is never ended for being slow."""

    def __init__(
        self, select: Callable[[Any], Iterable[T]], key: Callable[[T], Any], resumable: bool
    ) -> None:
        super().__init__(select, 1)
        self._key = key
        self.resumable = resumable
        self._latest: dict[Any, T] = {}
        self._ready = asyncio.Event()

    def offer(self, payload: Any) -> None:
        if self.interrupted:
            return
        for item in self._select(payload):
            key = self._key(item)
            self._latest.pop(key, None)  # re-inserted last: keys come out in arrival order
            self._latest[key] = item
            self._ready.set()

    def interrupt(self) -> bool:
        """A resumable feed (quotes) carries on when the broker is back: a missed value is
        superseded by the next one. Others (a final backtest state, a portfolio change) end."""
        if self.resumable or self.interrupted:
            return False
        self.interrupted = True
        self._ready.set()
        return True

    async def __aiter__(self) -> AsyncIterator[T]:
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self.interrupted:
                raise StreamInterrupted(INTERRUPTED_MESSAGE)
            pending, self._latest = self._latest, {}
            for key, item in pending.items():
                self.last_key = key
                yield item


class _Channel:
    def __init__(self) -> None:
        self.subscribers: set[Subscription[Any]] = set()
        self.exit_stack = contextlib.AsyncExitStack()
        self.pump: asyncio.Task[None] | None = None


class Broker:
    def __init__(self, url: str, max_queued_per_subscriber: int) -> None:
        self.url = url
        self.max_queued = max_queued_per_subscriber
        redis_url = url.startswith(("redis://", "rediss://"))
        self._backend = RedisPubSubBackend(url) if redis_url else None
        self._broadcast = Broadcast(backend=self._backend) if self._backend else Broadcast(url)
        self._channels: dict[str, _Channel] = {}
        self._decoders: dict[str, Decode] = {}
        self._lock = asyncio.Lock()
        self.slow_subscribers_ended = 0
        self.interrupted_subscriptions = 0
        self.outbox: Outbox | None = None
        self.publish_failures = RepeatedFailure("broker publish failed")
        self.dropped_messages = 0
        if self._backend is not None:
            self._backend.on_subscriber_lost = self._interrupt_all

    @property
    def description(self) -> str:
        if self._backend is not None:
            return f"broadcaster on Redis pub/sub at {self.url.split('@')[-1]}"
        return f"broadcaster {self.url} (this process only)"

    async def connect(self) -> None:
        await self._broadcast.connect()

    async def disconnect(self) -> None:
        for channel in list(self._channels.values()):
            if channel.pump:
                channel.pump.cancel()
        await self._broadcast.disconnect()

    async def ping(self) -> None:
        """Raises unless both Redis connections work: publishing, and delivering to us."""
        if self._backend is not None:
            await self._backend.ping()

    def attach_outbox(self, outbox: Outbox) -> None:
        """From now on a failed `publish` queues its message in `outbox` instead of losing it."""
        self.outbox = outbox

    def set_decoder(self, channel: str, decode: Decode) -> None:
        """Messages on `channel` are decoded once per process with `decode` (default: JSON).
        A name ending in '.' applies to every channel starting with it."""
        self._decoders[channel] = decode

    def _decoder(self, channel: str) -> Decode:
        if channel in self._decoders:
            return self._decoders[channel]
        for name, decode in self._decoders.items():
            if name.endswith(".") and channel.startswith(name):
                return decode
        return json.loads

    async def send(self, channel: str, message: str) -> None:
        """Hands one message to the transport; raises when it cannot."""
        await self._broadcast.publish(channel, message)

    async def publish(self, channel: str, message: str) -> None:
        """Publishes a message that must not be lost (an order update, stored events): through
        the outbox when one is attached. Never raises."""
        if self.outbox is not None:
            await self.outbox.publish(channel, message)
            return
        await self.publish_latest(channel, message)

    async def publish_latest(self, channel: str, message: str) -> None:
        """Publishes a last-value message (a quote, progress): while the broker is down it is
        dropped, counted, and logged once per outage. Never raises."""
        try:
            await self.send(channel, message)
        except Exception as error:
            self.dropped_messages += 1
            self.publish_failures.failed(error, channel=channel)
        else:
            self.publish_failures.recovered(dropped_total=self.dropped_messages)

    def _interrupt_all(self) -> None:
        """The subscribing connection was lost: ordered subscriptions may have missed messages,
        so they end now with StreamInterrupted rather than go silently wrong."""
        ended = 0
        for state in self._channels.values():
            for subscription in list(state.subscribers):
                ended += subscription.interrupt()
        self.interrupted_subscriptions += ended
        log.warning("live subscriptions interrupted by the broker connection", ended=ended)

    def source_counts(self) -> dict[str, int]:
        """Subscriptions iterated per channel: one per shared feed, however many it serves."""
        return {name: len(channel.subscribers) for name, channel in self._channels.items()}

    def subscriber_counts(self) -> dict[str, int]:
        """Subscribers per channel, counting each socket a shared subscription serves."""
        return {
            name: sum(subscription.weight for subscription in channel.subscribers)
            for name, channel in self._channels.items()
        }

    @contextlib.asynccontextmanager
    async def subscribe(
        self,
        channels: str | Sequence[str],
        select: Callable[[Any], Iterable[T]],
        conflate: Callable[[T], Any] | None = None,
        resumable: bool = False,
    ) -> AsyncIterator[Subscription[T]]:
        """A live subscription to one or more channels: once entered, every later message on
        them reaches it. With `conflate` (a key function) only the newest item per key waits.
        If the broker connection is lost it ends with StreamInterrupted, unless it conflates
        and is `resumable` (values that supersede each other: it carries on)."""
        names = [channels] if isinstance(channels, str) else list(dict.fromkeys(channels))
        subscription: Subscription[T] = (
            ConflatingSubscription(select, conflate, resumable)
            if conflate is not None
            else Subscription(select, self.max_queued)
        )
        joined: list[tuple[str, _Channel]] = []
        try:
            async with self._lock:
                for name in names:
                    joined.append((name, await self._join(name, subscription)))
            yield subscription
        finally:
            if subscription.overflowed:
                self.slow_subscribers_ended += 1
            for name, state in joined:
                await self._leave(name, state, subscription)

    async def _join(self, channel: str, subscription: Subscription[Any]) -> _Channel:
        state = self._channels.get(channel)
        if state is None:
            state = _Channel()
            try:
                source = await state.exit_stack.enter_async_context(
                    self._broadcast.subscribe(channel)
                )
            except Exception as error:  # broadcaster turns a failed SUBSCRIBE into a KeyError
                raise StreamInterrupted(
                    "live updates are unavailable: the message broker cannot be reached; "
                    "query the current state and subscribe again shortly"
                ) from error
            state.pump = asyncio.create_task(self._pump(channel, state, source))
            self._channels[channel] = state
        state.subscribers.add(subscription)
        return state

    async def _leave(self, channel: str, state: _Channel, subscription: Subscription[Any]) -> None:
        async with self._lock:
            state.subscribers.discard(subscription)
            if state.subscribers or self._channels.get(channel) is not state:
                return
            del self._channels[channel]
            if state.pump:
                state.pump.cancel()
            await state.exit_stack.aclose()

    async def _pump(self, channel: str, state: _Channel, source: Any) -> None:
        decode = self._decoder(channel)
        async for message in source:
            try:
                payload = decode(message.message)
            except Exception:
                log.exception("undecodable message dropped", channel=channel)
                continue
            for subscription in list(state.subscribers):
                try:
                    subscription.offer(payload)
                except Exception:  # one bad filter must not starve the others
                    log.exception("subscriber failed to take a message", channel=channel)
