"""Widget-key WebSockets: the handshake that lets a page on another origin connect, the open
sockets of each key (closed 4403 when the key is revoked) and each key's own caps.

Browsers apply no CORS to WebSockets, so the handshake's origin check is what keeps other
origins out. A widget socket says what it is in its URL (`/graphql?widget`): its handshake
passes from any origin, and then it must present a widget key whose origins include the page's
at connection_init, or it is closed 4403 with the reason; an access token is not accepted on
it. Other sockets keep the TRADEGRAPH_CORS_ORIGINS check.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationType,
    get_operation_ast,
    parse,
)
from graphql.execution.values import get_argument_values, get_variable_values
from starlette.requests import HTTPConnection
from strawberry.http.async_base_view import AsyncWebSocketAdapter

from tradegraph.web.user_quota import UserQuota
from tradegraph.widgets.grants import WidgetGrant

WIDGET_SOCKET_PARAM = "widget"  # /graphql?widget: a socket that presents a widget key
FORBIDDEN = 4403
REVOKED_REASON = "widget key revoked"


def is_widget_handshake(request: object) -> bool:
    """Whether a WebSocket handshake asks for a widget socket (`?widget` in its URL)."""
    return isinstance(request, HTTPConnection) and WIDGET_SOCKET_PARAM in request.query_params


class WidgetKeyQuota(UserQuota):
    """Open sockets and live subscriptions per widget key (per process), refused past the
    TRADEGRAPH_WIDGET_KEY_MAX_* limits."""

    def connections_refused_reason(self) -> str:
        return f"too many connections for this widget key (at most {self.max_connections})"

    def subscriptions_refused_message(self) -> str:
        return (
            f"too many live subscriptions for this widget key (at most {self.max_subscriptions}"
            " across its sockets): complete one before subscribing again"
        )


class WidgetSockets:
    """The acknowledged widget-key sockets of this process, by key id."""

    def __init__(self) -> None:
        self._open: dict[str, set[AsyncWebSocketAdapter]] = {}

    def add(self, key_id: str, socket: AsyncWebSocketAdapter) -> None:
        self._open.setdefault(key_id, set()).add(socket)

    def remove(self, key_id: str, socket: AsyncWebSocketAdapter) -> None:
        sockets = self._open.get(key_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._open[key_id]

    def keys(self) -> Collection[str]:
        """Ids of the keys with open sockets here."""
        return list(self._open)

    def count(self, key_id: str) -> int:
        return len(self._open.get(key_id, ()))

    async def close_key(self, key_id: str) -> None:
        """Closes every socket of a revoked key: 4403 "widget key revoked"."""
        sockets = self._open.pop(key_id, set())
        await asyncio.gather(*(_close(socket) for socket in sockets))


async def _close(socket: AsyncWebSocketAdapter) -> None:
    with contextlib.suppress(Exception):  # already closed by the client: nothing to do
        await socket.close(code=FORBIDDEN, reason=REVOKED_REASON)


def grant_covers(
    grant: WidgetGrant, schema: GraphQLSchema, payload: dict[str, Any], max_tokens: int
) -> bool:
    """Whether a subscribe message's subscription stays inside the grant: every root field is
    market data for covered symbols (arguments read with the message's variables). Only then may
    the socket join a shared feed, which runs with the context of whichever socket started it."""
    try:
        document = parse(payload["query"], max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return False
    name = payload.get("operationName")
    operation = get_operation_ast(document, name if isinstance(name, str) else None)
    root = schema.subscription_type
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION or not root:
        return False
    raw = payload.get("variables")
    variables = get_variable_values(
        schema, operation.variable_definitions or (), raw if isinstance(raw, dict) else {}
    )
    if isinstance(variables, list):  # invalid variables: the unshared path reports them
        return False
    for selection in operation.selection_set.selections:
        field = root.fields.get(selection.name.value) if isinstance(selection, FieldNode) else None
        if field is None or not isinstance(selection, FieldNode):
            return False
        try:
            arguments = get_argument_values(field, selection, variables)
        except GraphQLError:
            return False
        symbols = arguments.get("symbols") or [arguments.get("symbol", "")]
        if grant.refusal(selection.name.value, [s for s in symbols if s]) is not None:
            return False
    return True
