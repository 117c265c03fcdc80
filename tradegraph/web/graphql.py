"""The GraphQL view: HTTP, GraphiQL, and WebSocket (graphql-transport-ws and legacy graphql-ws).

Adds what Strawberry leaves out: authentication at connection_init (close 4403 on a bad token),
server pings on idle graphql-transport-ws sockets, and an init timeout for legacy graphql-ws.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UNSET, UnsetType

from tradegraph.api import build_schema
from tradegraph.schema.context import Context
from tradegraph.schema.scalars import json_number


class PingingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Sends {"type": "ping"} whenever nothing was sent for `keepalive_seconds`."""

    _pinger: asyncio.Task[None] | None = None
    _last_sent = 0.0

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping_when_idle())

    async def send_message(self, message: Any) -> None:
        self._last_sent = time.monotonic()
        await super().send_message(message)

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _ping_when_idle(self) -> None:
        interval = self.view.keepalive_seconds  # type: ignore[attr-defined]
        with contextlib.suppress(WebSocketDisconnected):
            while True:
                idle = time.monotonic() - self._last_sent
                if idle >= interval:
                    await self.send_message({"type": "ping", "payload": {"reason": "keepalive"}})
                    idle = 0.0
                await asyncio.sleep(interval - idle)


class TimedInitWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws: closes 4408 when connection_init does not arrive in time."""

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_without_init())
        try:
            await super().handle()
        finally:
            timer.cancel()

    async def _close_without_init(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=4408, reason="Connection initialisation timeout")


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = PingingTransportWSHandler
    graphql_ws_handler_class = TimedInitWSHandler

    def __init__(self, keepalive_seconds: float, init_timeout_seconds: float) -> None:
        super().__init__(
            build_schema(),
            keep_alive=True,  # legacy graphql-ws "ka" messages
            keep_alive_interval=keepalive_seconds,
            connection_init_wait_timeout=timedelta(seconds=init_timeout_seconds),
        )
        self.keepalive_seconds = keepalive_seconds

    def decode_json(self, data: str | bytes) -> object:
        """Request bodies and WebSocket messages; a number a float would round keeps its text,
        so a Decimal input is exact or refused, never silently rounded."""
        try:
            return json.loads(data, parse_float=json_number)
        except json.JSONDecodeError:
            raise
        except ValueError as error:  # e.g. an integer beyond Python's 4300-digit limit
            raise json.JSONDecodeError(str(error), "", 0) from error

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request.app.state.services, request, response)
        if isinstance(request, Request):
            context.authenticate(request.headers.get("authorization"))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if context.authenticate(authorization) is None:
            raise ConnectionRejectionError(
                {"message": 'send {"Authorization": "Bearer <accessToken>"} in connection_init'}
            )
        acknowledged: UnsetType = UNSET  # connection_ack without a payload
        return acknowledged
