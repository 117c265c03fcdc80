"""A broadcaster backend for Redis pub/sub that does not lose messages with redis-py 8.

broadcaster 0.3.1's RedisBackend starts `PubSub.listen()` before its first SUBSCRIBE has been
recorded; `listen()` sees no subscriptions, ends, and the listener then waits forever. Here one
reader task polls `get_message()` once a subscription exists, and `subscribe()` returns only
after Redis has confirmed it, so a caller knows from then on nothing published is missed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger(__name__)

SUBSCRIBE_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 5.0


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._url = url

    async def connect(self) -> None:
        self._redis = aioredis.Redis.from_url(self._url)
        self._pubsub = self._redis.pubsub()
        self._published: asyncio.Queue[Event] = asyncio.Queue()
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}
        self._has_subscription = asyncio.Event()
        await self._redis.ping()  # fail at startup, not at the first publish
        self._reader = asyncio.create_task(self._read_forever(), name="redis-pubsub-reader")

    async def disconnect(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    async def subscribe(self, channel: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(channel, []).append(confirmed)
        await self._pubsub.subscribe(channel)
        self._has_subscription.set()
        await asyncio.wait_for(confirmed, SUBSCRIBE_TIMEOUT_SECONDS)

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._redis.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._published.get()

    async def ping(self) -> None:
        await self._redis.ping()

    async def _read_forever(self) -> None:
        backoff = 0.1
        while True:
            await self._has_subscription.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.1
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                # redis-py reconnects on the next read and re-subscribes every channel.
                log.warning(
                    "redis pub/sub connection lost; retrying",
                    error=str(error),
                    retry_in_seconds=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"].decode()
        if kind == "message":
            self._published.put_nowait(Event(channel=channel, message=message["data"].decode()))
        elif kind == "subscribe":
            for confirmed in self._confirmations.pop(channel, []):
                if not confirmed.done():
                    confirmed.set_result(None)
