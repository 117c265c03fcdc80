"""Execute once, send many: subscribers of the same public subscription share one execution.

Quotes and candles are the same for every caller, so subscriptions with the same document,
variables and operation name share one source iteration and one GraphQL execution per message;
the payload is encoded once and each socket gets a frame with its own operation id spliced in.
Private feeds (orders, portfolio values, backtests, a trader's events) are never shared.

Each socket writes through its own `SocketOutbox`, which keeps only the newest frame per
operation and conflation key (the quote's symbol): a slow reader holds back only itself and,
like an unshared quotes subscription, skips stale quotes instead of building a backlog.
A message is handed to the members in chunks, yielding to the event loop between them, so
a fan-out to 10,000 sockets never holds the loop for the whole of it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import structlog
from graphql import GraphQLError
from graphql.language import OperationType
from strawberry.schema.base import BaseSchema
from strawberry.types.execution import ExecutionResult, PreExecutionError

from tradegraph.pubsub.broker import Subscription, observe_subscriptions
from tradegraph.schema.core.context import Context
from tradegraph.web.socket_outbox import SocketOutbox

log = structlog.get_logger(__name__)

SHARED_ROOT_FIELDS = frozenset({"quotes", "candles"})  # public: every caller sees the same
DELIVERY_CHUNK = 500  # members served between two yields to the event loop (~10 ms of sends)

FeedKey = tuple[str, str, str | None]


def shareable(kind: OperationType, root_fields: frozenset[str]) -> bool:
    """Whether an operation reads only public live data, the same for every caller."""
    return (
        kind is OperationType.SUBSCRIPTION
        and bool(root_fields)
        and root_fields <= (SHARED_ROOT_FIELDS)
    )


def feed_key(query: str, variables: object, operation_name: str | None) -> FeedKey:
    canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"), default=str)
    return (query, canonical, operation_name)


OperationEnded = Callable[[str], None]


class Member:
    """One operation of one socket served by a shared feed: where its frames go (`outbox`) and
    whom to tell, with its id, when the feed ends it (`ended`, owned by the socket's handler).
    It stands in Strawberry's table of the socket's operations (web/strawberry_ws.py), so
    duplicate ids and `complete` work as for any operation."""

    __slots__ = ("ended", "feed", "operation_id", "outbox")
    task = None  # Strawberry's shutdown awaits operations' tasks: a member has none

    def __init__(self, operation_id: str, outbox: SocketOutbox, ended: OperationEnded) -> None:
        self.operation_id = operation_id
        self.outbox = outbox
        self.ended = ended
        self.feed: SharedFeed | None = None


class Fanout:
    """The sockets one shared execution serves, and the broker subscriptions it opened: each of
    those counts once per socket, and the newest item's conflation key comes from them."""

    def __init__(self) -> None:
        self.members = 0
        self.subscriptions: list[Subscription[Any]] = []

    def opened(self, subscription: Subscription[Any]) -> None:
        subscription.weight = self.members
        self.subscriptions.append(subscription)

    def resize(self, members: int) -> None:
        self.members = members
        for subscription in self.subscriptions:
            subscription.weight = members

    @property
    def last_key(self) -> object:
        return self.subscriptions[-1].last_key if self.subscriptions else None


class SharedFeed:
    """One execution of a subscription document, delivered to every member."""

    def __init__(
        self,
        feeds: SharedFeeds,
        key: FeedKey,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> None:
        self.feeds = feeds
        self.key = key
        self.members: dict[Member, None] = {}  # ordered: delivery follows subscription order
        self.fanout = Fanout()
        self.ended = False
        # the newest payload per key (a quote's symbol): a socket joining late starts from it
        self.latest: dict[object, str] = {}
        self._variables = variables
        self._context = context
        self.task = asyncio.create_task(self._run())

    def add(self, member: Member) -> None:
        member.feed = self
        self.members[member] = None
        self.fanout.resize(len(self.members))
        for key, encoded in self.latest.items():
            member.outbox.put(
                member.operation_id, key, _frame(member.operation_id, "next", encoded)
            )

    def remove(self, member: Member) -> None:
        self.members.pop(member, None)
        self.fanout.resize(len(self.members))
        if not self.members and not self.ended:
            self.ended = True
            self.feeds.forget(self)
            self.task.cancel()

    async def _run(self) -> None:
        observe_subscriptions(self.fanout.opened)  # those opened below serve every member
        query, _, operation_name = self.key
        try:
            stream = await self.feeds.schema.stream(
                query,
                variable_values=self._variables,
                context_value=self._context,
                operation_name=operation_name,
            )
            async with aclosing(stream):
                await self._deliver_all(stream)
            self._end("complete", None)
        except asyncio.CancelledError:
            raise
        except Exception:  # like an unshared operation: logged, and its members completed
            log.exception("shared subscription failed", query=query[:200])
            self._end("complete", None)
        finally:
            self.ended = True
            self.feeds.forget(self)

    async def _deliver_all(self, stream: AsyncIterator[Any]) -> None:
        first = True
        async for result in stream:
            if first and isinstance(result, PreExecutionError):
                assert result.errors
                self._end("error", [error.formatted for error in result.errors])
                return
            if not isinstance(result, ExecutionResult):
                message = "Incremental delivery is not supported over graphql-transport-ws"
                self._end("error", [GraphQLError(message).formatted])
                return
            first = False
            await self._deliver(result)

    async def _deliver(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        encoded = self.feeds.encode(payload)
        key = self.fanout.last_key
        if key is not None:
            self.latest.pop(key, None)  # re-inserted last: replayed in arrival order
            self.latest[key] = encoded
        frames: dict[str, str] = {}  # most sockets use the same few ids ("1")
        members = list(self.members)  # members may come and go while this yields
        for index, member in enumerate(members):
            if index and index % DELIVERY_CHUNK == 0:
                await asyncio.sleep(0)
            if member.feed is not self:  # left meanwhile
                continue
            frame = frames.get(member.operation_id)
            if frame is None:
                frame = _frame(member.operation_id, "next", encoded)
                frames[member.operation_id] = frame
            member.outbox.put(member.operation_id, key, frame)

    def _end(self, kind: str, payload: object) -> None:
        """The last frame to every member (`complete`, or `error` before any result)."""
        self.ended = True
        encoded = None if payload is None else self.feeds.encode(payload)
        for member in list(self.members):
            member.ended(member.operation_id)
            member.outbox.put_final(member.operation_id, _frame(member.operation_id, kind, encoded))
        self.members.clear()
        self.fanout.resize(0)


def _frame(operation_id: str, kind: str, payload: str | None) -> str:
    head = f'{{"id":{json.dumps(operation_id)},"type":"{kind}"'
    return head + ("}" if payload is None else f',"payload":{payload}}}')


class SharedFeeds:
    """The shared feeds of one GraphQL view (one process), by document, variables and name."""

    def __init__(self, schema: BaseSchema, encode: Callable[[object], str | bytes]) -> None:
        self.schema = schema
        self._encode = encode
        self._feeds: dict[FeedKey, SharedFeed] = {}

    def __len__(self) -> int:
        return len(self._feeds)

    def encode(self, value: object) -> str:
        encoded = self._encode(value)
        return encoded.decode() if isinstance(encoded, bytes) else encoded

    def join(
        self,
        member: Member,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> None:
        """Adds `member` to the feed of this document, starting one if there is none.
        `context` (the caller's) is copied for a new feed: the feed outlives its first socket."""
        key = feed_key(query, variables, operation_name)
        feed = self._feeds.get(key)
        if feed is None or feed.ended:
            feed = SharedFeed(self, key, variables, _feed_context(context))
            self._feeds[key] = feed
        feed.add(member)

    def leave(self, member: Member) -> None:
        if member.feed is not None:
            member.feed.remove(member)
            member.feed = None

    def forget(self, feed: SharedFeed) -> None:
        if self._feeds.get(feed.key) is feed:
            del self._feeds[feed.key]


def _feed_context(caller: Context) -> Context:
    context = Context(caller.services, None, None)
    context.connection_params = caller.connection_params
    context.access_token = caller.access_token
    context.principal = caller.principal
    context.widget_grant = caller.widget_grant
    return context
