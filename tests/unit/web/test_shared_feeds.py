"""A shared feed executes once for all its members and, when its source ends, tells each
member's owner through the callback the member was given (it holds no protocol handler)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any, cast

import strawberry

from tradegraph.schema.core.context import Context
from tradegraph.web.shared_feeds import Member, SharedFeeds
from tradegraph.web.socket_outbox import SocketOutbox


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


class Gate:
    """Lets the test decide when the subscription's source may end."""

    release = asyncio.Event()


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, count: int) -> AsyncGenerator[int, None]:
        for tick in range(count):
            yield tick
        await Gate.release.wait()


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)
QUERY = "subscription { ticks(count: 2) }"


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.completed = asyncio.Event()

    async def send(self, frame: str) -> None:
        message = json.loads(frame)
        self.frames.append(message)
        if message["type"] == "complete":
            self.completed.set()


async def test_an_ended_feed_completes_its_members_and_reports_their_ids() -> None:
    Gate.release = asyncio.Event()
    feeds = SharedFeeds(SCHEMA, json.dumps)
    context = Context(cast(Any, None), None, None)
    ended: list[str] = []
    sockets = [Socket(), Socket()]
    for operation_id, socket in zip(["a", "b"], sockets, strict=True):
        member = Member(operation_id, SocketOutbox(socket.send), ended.append)
        feeds.join(member, QUERY, None, None, context)
    assert len(feeds) == 1  # one execution for both
    Gate.release.set()  # the source ends after its two ticks
    for socket in sockets:
        await socket.completed.wait()
    assert ended == ["a", "b"]
    assert len(feeds) == 0
    assert [frame["type"] for frame in sockets[0].frames] == ["next", "next", "complete"]
    assert [frame["payload"]["data"]["ticks"] for frame in sockets[1].frames[:2]] == [0, 1]
    assert {frame["id"] for frame in sockets[1].frames} == {"b"}


async def test_a_member_that_leaves_is_not_reported_as_ended() -> None:
    Gate.release = asyncio.Event()
    feeds = SharedFeeds(SCHEMA, json.dumps)
    context = Context(cast(Any, None), None, None)
    ended: list[str] = []
    staying, leaving = Socket(), Socket()
    stays = Member("1", SocketOutbox(staying.send), ended.append)
    leaves = Member("2", SocketOutbox(leaving.send), ended.append)
    feeds.join(stays, QUERY, None, None, context)
    feeds.join(leaves, QUERY, None, None, context)
    feeds.leave(leaves)
    Gate.release.set()
    await staying.completed.wait()
    assert ended == ["1"]
    assert not leaving.completed.is_set()
