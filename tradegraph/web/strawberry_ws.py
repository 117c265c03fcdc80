"""Every Strawberry internal the WebSocket handlers rely on, named in one place.

The view (web/graphql.py) plugs the WebSocket handlers in through Strawberry's public
extension points: `graphql_transport_ws_handler_class`, `graphql_ws_handler_class`,
`websocket_adapter_class`, `on_ws_connect`, `encode_json` and `decode_json`; shared feeds run
documents through the public `Schema.stream`. The protocol handlers themselves have no
documented hooks, so web/graphql_ws.py (and its mixins in web/ws_connection.py and
web/ws_limits.py) subclass them and rely on the following, which
tests/unit/web/test_strawberry_ws.py pins against the Strawberry version pyproject.toml allows:

graphql-transport-ws, `BaseGraphQLTransportWSHandler` (`TransportWSHandler` here):
- methods overridden and called through `super()`: `handle_connection_init(message)`,
  `handle_subscribe(message)`, `run_operation(operation)` (the task that runs one operation,
  started by `handle_subscribe`; its `operation.id`), `handle_invalid_message(error_message)`,
  `send_message(message)`, `cleanup_operation(operation_id)`, `shutdown()`;
- `operations`, its table of running operations by id: duplicate ids (4409), `complete` and
  `shutdown` go through it. The handler swaps in a `CountedOperations` table (web/ws_limits.py)
  that frees a user's slot on `del` or `pop`, the two ways Strawberry removes an operation
  (`Operation.send_operation_message` → `forget_id` → `del`; `cleanup_operation` → `pop`); a
  shared feed's `Member` stands in it, so `shutdown` reads its `task` (None: nothing to await);
- the connection_init state its own `handle_connection_init` keeps, which ours replaces:
  `connection_init_received`, `connection_acknowledged`, `connection_timed_out`,
  `connection_init_timeout_task`.

legacy graphql-ws, `BaseGraphQLWSHandler` (`LegacyWSHandler` here):
- methods overridden: `handle()`, `handle_connection_init(message)`, `handle_start(message)`,
  and `cleanup_operation(operation_id)` (called); its `handle()` lets `NonJsonMessageReceived`
  through to ours, which closes 4400 (Strawberry's own ignores it);
- `tasks`, its table of running operations (a `CountedOperations` too: `handle_async_results`
  and `cleanup_operation` remove theirs with `pop`), and the keep-alive it starts after an
  ack: `keep_alive`, `keep_alive_task`, `handle_keep_alive()`; `connection_acknowledged`.

Elsewhere:
- `ASGIWebSocketAdapter.ws`, the Starlette socket, which shared feeds write encoded frames to
  (`starlette_socket`) and web/ws_messages.py's adapter reads from (overriding
  `iter_json(*, ignore_parsing_errors)`);
- `Schema._schema`, the graphql-core schema a widget key's grant is checked against
  (`graphql_core_schema`).
"""

from __future__ import annotations

from graphql import GraphQLSchema
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler as TransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import (
    BaseGraphQLWSHandler as LegacyWSHandler,
)

__all__ = ["LegacyWSHandler", "TransportWSHandler", "graphql_core_schema", "starlette_socket"]


def starlette_socket(websocket: AsyncWebSocketAdapter) -> WebSocket:
    """The Starlette WebSocket under Strawberry's adapter: shared feeds send it frames they have
    encoded once for every socket, which the adapter's `send_json` would encode again."""
    if not isinstance(websocket, ASGIWebSocketAdapter):
        raise TypeError(f"an ASGI WebSocket adapter was expected, not {type(websocket)!r}")
    return websocket.ws


def graphql_core_schema(schema: BaseSchema) -> GraphQLSchema:
    """The graphql-core schema Strawberry builds (`Schema._schema`), for checks that walk a
    document against it before any execution."""
    core = getattr(schema, "_schema", None)
    if not isinstance(core, GraphQLSchema):
        raise TypeError(f"{type(schema)!r} holds no graphql-core schema in _schema")
    return core
