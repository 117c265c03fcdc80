"""The GraphQL view: HTTP, GraphiQL, and WebSocket (graphql-transport-ws and legacy graphql-ws).

Adds what Strawberry leaves out: authentication at connection_init (close 4403 with a reason
saying what to send), a socket that ends when its access token expires (4403 "token expired"),
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
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UNSET, UnsetType

from tradegraph.api import build_schema
from tradegraph.schema.context import ACCOUNT_GONE, Context
from tradegraph.schema.scalars import json_number

FORBIDDEN = 4403
TOKEN_EXPIRED = "token expired"
SEND_TOKEN = 'send {"Authorization": "Bearer <accessToken>"} in connection_init'
MAX_CLOSE_REASON_BYTES = 123  # a close frame's reason must fit in 125 bytes with the code


def rejection_reason(rejection: ConnectionRejectionError) -> str:
    """The close reason of a refused connection_init: what to send instead."""
    message = rejection.payload.get("message")
    reason = message if isinstance(message, str) and message else SEND_TOKEN
    return reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


class TokenLifetime:
    """Mixed into both protocol handlers: an acknowledged socket lives only as long as the
    access token it was opened with. A timer closes it 4403 "token expired" at the token's
    `exp`, and an operation started after that (before the timer ran) is refused the same way."""

    context: Context
    websocket: AsyncWebSocketAdapter
    _expiry_timer: asyncio.Task[None] | None = None

    def start_token_timer(self) -> None:
        token = self.context.access_token
        if token is not None and self._expiry_timer is None:
            self._expiry_timer = asyncio.create_task(self._close_at_expiry(token.seconds_left()))

    async def stop_token_timer(self) -> None:
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry_timer

    async def refused_as_expired(self) -> bool:
        """Closes the socket and says True when the token has expired."""
        token = self.context.access_token
        if token is None or not token.expired():
            return False
        await self._close_expired()
        return True

    async def _close_at_expiry(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
        await self._close_expired()

    async def _close_expired(self) -> None:
        with contextlib.suppress(Exception):  # already closed by the client: nothing to do
            await self.websocket.close(code=FORBIDDEN, reason=TOKEN_EXPIRED)


class PingingTransportWSHandler(TokenLifetime, BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws: sends {"type": "ping"} whenever nothing was sent for
    `keepalive_seconds`; closes 4403 with a reason on a refused init or an expired token."""

    _pinger: asyncio.Task[None] | None = None
    _last_sent = 0.0

    async def handle_connection_init(self, message: Any) -> None:
        # Strawberry's own version closes a refused init with the bare reason "Forbidden".
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as rejection:
            await self.websocket.close(code=FORBIDDEN, reason=rejection_reason(rejection))
            return
        if isinstance(ack_payload, UnsetType) or ack_payload is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        self.start_token_timer()
        if self._pinger is None:
            self._pinger = asyncio.create_task(self._ping_when_idle())

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and await self.refused_as_expired():
            return
        await super().handle_subscribe(message)

    async def send_message(self, message: Any) -> None:
        self._last_sent = time.monotonic()
        await super().send_message(message)

    async def shutdown(self) -> None:
        await self.stop_token_timer()
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


class TimedInitWSHandler(TokenLifetime, BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws: closes 4408 when connection_init does not arrive in time, and 4403
    (not Strawberry's 1011) with a reason on a refused init or an expired token."""

    _init_received = False

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_without_init())
        try:
            await super().handle()
        finally:
            timer.cancel()
            await self.stop_token_timer()

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        if self._init_received:  # a second init must not swap the socket's token
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self._init_received = True
        self.context.connection_params = payload
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as rejection:
            await self.send_message({"type": "connection_error", "payload": rejection.payload})
            await self.websocket.close(code=FORBIDDEN, reason=rejection_reason(rejection))
            return
        if isinstance(ack_payload, UnsetType) or ack_payload is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        self.start_token_timer()
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_start(self, message: Any) -> None:
        if self.connection_acknowledged and await self.refused_as_expired():
            return
        await super().handle_start(message)

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
            problem = "access token invalid or expired; " if authorization is not None else ""
            raise ConnectionRejectionError({"message": problem + SEND_TOKEN})
        if await context.resolve_principal() is None:
            raise ConnectionRejectionError({"message": ACCOUNT_GONE})
        acknowledged: UnsetType = UNSET  # connection_ack without a payload
        return acknowledged
