"""A broadcaster backend for Redis pub/sub that does not lose messages with redis-py 8.

broadcaster 0.3.1's RedisBackend starts `PubSub.listen()` before its first SUBSCRIBE has been
recorded; `listen()` sees no subscriptions, ends, and the listener then waits forever. Here one
reader task polls `get_message()` once a subscription exists, and `subscribe()` returns only
after Redis has confirmed it, so a caller knows from then on nothing published is missed.

When the subscribing connection fails, whatever Redis published meanwhile is gone: the backend
calls `on_subscriber_lost` once (the broker ends ordered subscriptions), and `ping()` fails
until the reader has reconnected and Redis has confirmed every channel again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tradegraph.pubsub.failures import RepeatedFailure

log = structlog.get_logger(__name__)

SUBSCRIBE_TIMEOUT_SECONDS = 10.0
PUBLISH_TIMEOUT_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 1.0
CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class SubscriberNotReady(RuntimeError):
    """The connection Redis delivers messages on is down or not re-subscribed yet."""


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._url = url
        self.on_subscriber_lost: Callable[[], None] | None = None
        self.read_failures = RepeatedFailure("redis pub/sub connection lost; reconnecting")

    async def connect(self) -> None:
        # One immediate retry (a connection left broken by a Redis restart is replaced), and
        # no backoff: while Redis is down a publish fails at once and the outbox takes over.
        self._redis = aioredis.Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 1), socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS
        )
        # No retry on the subscribing connection: redis-py would reconnect inside a read and
        # hide the gap, and what was published during it would be lost without a word.
        self._subscriber = aioredis.Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS
        )
        self._pubsub = self._subscriber.pubsub()
        self._published: asyncio.Queue[Event] = asyncio.Queue()
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}
        self._has_subscription = asyncio.Event()
        self._lost: str | None = None  # why the subscribing connection is not usable
        # After a loss: the channels Redis has confirmed again (None: nothing to wait for).
        self._reconfirmed: set[str] | None = None
        await self._redis.ping()  # fail at startup, not at the first publish
        self._reader = asyncio.create_task(self._read_forever(), name="redis-pubsub-reader")

    async def disconnect(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        with contextlib.suppress(*CONNECTION_ERRORS):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._subscriber.aclose()
        await self._redis.aclose()

    async def subscribe(self, channel: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(channel, []).append(confirmed)
        try:
            await self._pubsub.subscribe(channel)
            self._has_subscription.set()
            await asyncio.wait_for(confirmed, SUBSCRIBE_TIMEOUT_SECONDS)
        except BaseException:
            waiting = self._confirmations.get(channel, [])
            if confirmed in waiting:
                waiting.remove(confirmed)
            raise

    async def unsubscribe(self, channel: str) -> None:
        try:
            await self._pubsub.unsubscribe(channel)
        except CONNECTION_ERRORS:
            # Redis forgets every subscription with the connection; make sure the reconnect
            # does not subscribe this channel again.
            for key in (channel, channel.encode()):  # redis-py keeps names as bytes
                self._pubsub.channels.pop(key, None)
                self._pubsub.pending_unsubscribe_channels.discard(key)

    async def publish(self, channel: str, message: Any) -> None:
        await asyncio.wait_for(self._redis.publish(channel, message), PUBLISH_TIMEOUT_SECONDS)

    async def next_published(self) -> Event:
        return await self._published.get()

    async def ping(self) -> None:
        """Raises unless Redis answers and the subscribing connection is up and subscribed."""
        if self._reader.done():
            raise SubscriberNotReady("the pub/sub reader has stopped")
        if self._lost is not None:
            raise SubscriberNotReady(f"pub/sub connection lost: {self._lost}")
        unconfirmed = self._unconfirmed()
        if unconfirmed:
            raise SubscriberNotReady(f"{len(unconfirmed)} channel(s) not re-subscribed yet")
        await self._redis.ping()

    def _unconfirmed(self) -> set[str]:
        """Channels still subscribed since before the loss that Redis has not confirmed again."""
        if self._reconfirmed is None:
            return set()
        return {_text(name) for name in self._pubsub.channels} - self._reconfirmed

    async def _read_forever(self) -> None:
        backoff = 0.05
        while True:
            await self._has_subscription.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except CONNECTION_ERRORS as error:
                self._connection_lost(error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.05
            if message is not None:
                self._dispatch(message)
            if self._lost is not None:
                self._lost = None  # read again: the reconnect re-sent every SUBSCRIBE
                self.read_failures.recovered()
            if self._lost is None and self._reconfirmed is not None and not self._unconfirmed():
                self._reconfirmed = None
                log.info("redis pub/sub connection restored and re-subscribed")

    def _connection_lost(self, error: BaseException) -> None:
        self.read_failures.failed(error)
        if self._lost is None:
            self._lost = f"{type(error).__name__}: {error}"
            self._reconfirmed = set()
            if self.on_subscriber_lost is not None:
                self.on_subscriber_lost()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if message.get("channel") is None:  # a pong has no channel
            return
        channel = message["channel"].decode()
        if kind == "message":
            self._published.put_nowait(Event(channel=channel, message=message["data"].decode()))
        elif kind == "subscribe":
            if self._reconfirmed is not None:
                self._reconfirmed.add(channel)
            for confirmed in self._confirmations.pop(channel, []):
                if not confirmed.done():
                    confirmed.set_result(None)


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name
