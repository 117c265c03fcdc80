"""The Strawberry internals web/strawberry_ws.py names, checked against the installed version:
if an upgrade renames, re-signs or changes how one of them removes an operation, a test here
fails before a socket misbehaves in production."""

from __future__ import annotations

import asyncio
import inspect
import tomllib
from collections.abc import AsyncGenerator, Callable, Mapping
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

import pytest
import strawberry
from graphql import GraphQLSchema
from packaging.requirements import Requirement
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from tradegraph.web.shared_feeds import Member
from tradegraph.web.socket_outbox import SocketOutbox
from tradegraph.web.strawberry_ws import (
    LegacyWSHandler,
    TransportWSHandler,
    graphql_core_schema,
    starlette_socket,
)
from tradegraph.web.ws_limits import CountedOperations

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, count: int) -> AsyncGenerator[int, None]:
        for tick in range(count):
            yield tick
        if count == 0:
            await asyncio.Event().wait()  # runs until cancelled


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


class RecordingAdapter(AsyncWebSocketAdapter):
    """A socket that records what the handler sends."""

    def __init__(self) -> None:
        super().__init__(cast(Any, None))
        self.sent: list[Mapping[str, object]] = []

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        return
        yield

    async def send_json(self, message: Mapping[str, object]) -> None:
        self.sent.append(message)

    async def close(self, code: int, reason: str) -> None:
        pass


class Releases:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def transport_handler(socket: RecordingAdapter) -> TransportWSHandler[None, None]:
    return TransportWSHandler(cast(Any, None), socket, None, None, SCHEMA, timedelta(seconds=1))


def legacy_handler(socket: RecordingAdapter) -> LegacyWSHandler[None, None]:
    return LegacyWSHandler(cast(Any, None), socket, None, None, SCHEMA, False, None)


def parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_installed_strawberry_is_within_the_range_pyproject_pins() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pinned = next(Requirement(d) for d in dependencies if d.startswith("strawberry-graphql"))
    assert pinned.specifier.contains(version("strawberry-graphql"))
    assert pinned.specifier.contains("0.341.2")  # the version this file was written against


@pytest.mark.parametrize(
    ("handler_class", "method", "expected"),
    [
        (TransportWSHandler, "handle_connection_init", ["self", "message"]),
        (TransportWSHandler, "handle_subscribe", ["self", "message"]),
        (TransportWSHandler, "run_operation", ["self", "operation"]),
        (TransportWSHandler, "handle_invalid_message", ["self", "error_message"]),
        (TransportWSHandler, "send_message", ["self", "message"]),
        (TransportWSHandler, "cleanup_operation", ["self", "operation_id"]),
        (TransportWSHandler, "forget_id", ["self", "id"]),
        (TransportWSHandler, "shutdown", ["self"]),
        (LegacyWSHandler, "handle", ["self"]),
        (LegacyWSHandler, "handle_connection_init", ["self", "message"]),
        (LegacyWSHandler, "handle_start", ["self", "message"]),
        (LegacyWSHandler, "handle_keep_alive", ["self"]),
        (LegacyWSHandler, "cleanup_operation", ["self", "operation_id"]),
        (LegacyWSHandler, "send_message", ["self", "message"]),
    ],
)
def test_overridden_handler_methods_keep_their_names_and_parameters(
    handler_class: type, method: str, expected: list[str]
) -> None:
    function = getattr(handler_class, method)
    assert parameters(function) == expected
    # forget_id is the one plain method: the others are awaited through super()
    assert inspect.iscoroutinefunction(function) is (method != "forget_id")


def test_the_handlers_keep_the_state_the_subclasses_read_and_replace() -> None:
    transport = transport_handler(RecordingAdapter())
    assert transport.operations == {}
    assert transport.connection_init_received is False
    assert transport.connection_acknowledged is False
    assert transport.connection_timed_out is False
    assert transport.connection_init_timeout_task is None
    legacy = legacy_handler(RecordingAdapter())
    assert legacy.tasks == {}
    assert legacy.connection_acknowledged is False
    assert legacy.keep_alive is False
    assert legacy.keep_alive_task is None
    assert "task" in Operation.__slots__  # what Strawberry's shutdown awaits per operation


async def test_an_operation_that_completes_leaves_the_table_by_del() -> None:
    socket = RecordingAdapter()
    handler = transport_handler(socket)
    releases = Releases()
    handler.operations = CountedOperations(releases)
    operation: Operation[None, None] = Operation(handler, "1", "{ ok }", None, None)
    handler.operations["1"] = operation
    handler.operations.count("1")
    await operation.send_operation_message({"id": "1", "type": "complete"})
    assert handler.operations == {}
    assert releases.count == 1  # CountedOperations.__delitem__ ran
    assert socket.sent == [{"id": "1", "type": "complete"}]


async def test_a_completed_operation_leaves_the_table_by_pop() -> None:
    handler = transport_handler(RecordingAdapter())
    releases = Releases()
    handler.operations = CountedOperations(releases)
    operation: Operation[None, None] = Operation(handler, "1", "{ ok }", None, None)
    operation.task = asyncio.create_task(asyncio.Event().wait())
    handler.operations["1"] = operation
    handler.operations.count("1")
    await handler.cleanup_operation("1")
    assert handler.operations == {}
    assert releases.count == 1
    await asyncio.gather(operation.task, return_exceptions=True)
    assert operation.task.cancelled()


async def test_shutdown_passes_over_a_member_which_has_no_task() -> None:
    class MemberAware(TransportWSHandler[None, None]):
        async def cleanup_operation(self, operation_id: str) -> None:
            if isinstance(self.operations.get(operation_id), Member):
                self.operations.pop(operation_id)
                return
            await super().cleanup_operation(operation_id)

    async def send(frame: str) -> None:
        pass

    handler = MemberAware(
        cast(Any, None), RecordingAdapter(), None, None, SCHEMA, timedelta(seconds=1)
    )
    member = Member("1", SocketOutbox(send), lambda operation_id: None)
    handler.operations["1"] = cast(Any, member)
    await handler.shutdown()
    assert handler.operations == {}


async def test_a_legacy_operation_that_ends_leaves_the_table_by_pop() -> None:
    socket = RecordingAdapter()
    handler = legacy_handler(socket)
    releases = Releases()
    handler.tasks = CountedOperations(releases)
    handler.connection_acknowledged = True
    query = "subscription { ticks(count: 1) }"
    await handler.handle_start({"type": "start", "id": "1", "payload": {"query": query}})
    task = handler.tasks["1"]
    handler.tasks.count("1")
    await task
    assert handler.tasks == {}
    assert releases.count == 1
    assert [message["type"] for message in socket.sent] == ["data", "complete"]


async def test_a_stopped_legacy_operation_leaves_the_table_by_pop() -> None:
    handler = legacy_handler(RecordingAdapter())
    releases = Releases()
    handler.tasks = CountedOperations(releases)
    handler.connection_acknowledged = True
    query = "subscription { ticks(count: 0) }"
    await handler.handle_start({"type": "start", "id": "1", "payload": {"query": query}})
    handler.tasks.count("1")
    await handler.cleanup_operation("1")
    assert handler.tasks == {}
    assert releases.count == 1


async def test_the_legacy_handler_lets_a_message_that_is_not_json_through() -> None:
    class NotJSON(RecordingAdapter):
        async def iter_json(
            self, *, ignore_parsing_errors: bool = False
        ) -> AsyncGenerator[object, None]:
            raise NonJsonMessageReceived
            yield

    with pytest.raises(NonJsonMessageReceived):
        await legacy_handler(NotJSON()).handle()


def test_the_asgi_adapter_reads_messages_with_the_signature_ours_overrides() -> None:
    assert parameters(ASGIWebSocketAdapter.iter_json) == ["self", "ignore_parsing_errors"]
    assert inspect.isasyncgenfunction(ASGIWebSocketAdapter.iter_json)


def test_the_schema_streams_with_the_keywords_shared_feeds_pass() -> None:
    names = parameters(strawberry.Schema.stream)
    for keyword in ("query", "variable_values", "context_value", "operation_name"):
        assert keyword in names


def test_starlette_socket_is_the_asgi_adapters_websocket() -> None:
    async def receive() -> Any:
        return {}

    async def send(message: Any) -> None:
        pass

    ws = WebSocket({"type": "websocket"}, receive, send)
    adapter = ASGIWebSocketAdapter(cast(Any, None), ws, ws)
    assert starlette_socket(adapter) is ws
    with pytest.raises(TypeError):
        starlette_socket(RecordingAdapter())


def test_graphql_core_schema_is_the_one_strawberry_built() -> None:
    core = graphql_core_schema(SCHEMA)
    assert isinstance(core, GraphQLSchema)
    assert core.subscription_type is not None
    assert "ticks" in core.subscription_type.fields
