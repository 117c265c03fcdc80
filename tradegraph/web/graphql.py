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

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from tradegraph.api import build_schema
from tradegraph.config import Settings
from tradegraph.schema.context import ACCOUNT_GONE, Context
from tradegraph.schema.query_limits import QueryLimits
from tradegraph.schema.scalars import json_number
from tradegraph.web.cors import OriginPolicy, WebSocketOriginCheck
from tradegraph.web.errors import graphql_error_response
from tradegraph.web.graphiql import OfflineGraphiQL

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


class GraphQLView(WebSocketOriginCheck, OfflineGraphiQL, GraphQL[Context, None]):
    graphql_transport_ws_handler_class = PingingTransportWSHandler
    graphql_ws_handler_class = TimedInitWSHandler

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(
                QueryLimits.from_settings(settings), introspection=settings.introspection_enabled
            ),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            keep_alive=True,  # legacy graphql-ws "ka" messages
            keep_alive_interval=settings.ws_keepalive_seconds,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        )
        self.keepalive_seconds = settings.ws_keepalive_seconds
        self.origin_policy = OriginPolicy.from_settings(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:  # Strawberry answers these in plain text
            response = _http_error(error)
        await response(scope, receive, send)

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

    def decode_json(self, data: str | bytes) -> object:
        """JSON of a request body or a WebSocket message, refused past MAX_JSON_DEPTH levels.

        A JSONDecodeError: the view answers 400, graphql-transport-ws closes with 4400. A number
        a float would round keeps its text, so a Decimal input is exact or refused, never
        silently rounded."""
        try:
            value = json.loads(data, parse_float=json_number)
        except RecursionError:
            raise JSONTooDeep(data) from None
        except json.JSONDecodeError:
            raise
        except ValueError as error:  # e.g. an integer beyond Python's 4300-digit limit
            raise json.JSONDecodeError(str(error), "", 0) from error
        if _nesting_exceeds(value, MAX_JSON_DEPTH):
            raise JSONTooDeep(data)
        return value

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except JSONTooDeep as error:
            raise HTTPException(400, error.msg) from error
        except json.JSONDecodeError as error:
            raise HTTPException(400, f"request body is not valid JSON: {error}") from error

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, but a subscription over plain HTTP is refused: it would run as a query
        and fail inside its resolver."""
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATIONS[request_adapter.method],
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_OVER_HTTP) from error
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error


MAX_JSON_DEPTH = 100  # far beyond any real variables; stops recursion in graphql-core and json
HTTP_OPERATIONS = {
    "GET": (OperationType.QUERY,),
    "POST": (OperationType.QUERY, OperationType.MUTATION),
}
SUBSCRIPTION_OVER_HTTP = (
    "subscriptions run over a WebSocket: connect to /graphql with the graphql-transport-ws"
    " protocol (or legacy graphql-ws)"
)


class JSONTooDeep(json.JSONDecodeError):
    def __init__(self, document: str | bytes) -> None:
        text = document if isinstance(document, str) else document.decode("utf-8", "replace")
        super().__init__(f"JSON nested more than {MAX_JSON_DEPTH} levels deep", text, 0)


def _nesting_exceeds(value: object, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels (iterative: no recursion limit)."""
    pending: list[tuple[dict[str, Any] | list[Any], int]] = []
    if isinstance(value, dict | list):
        pending.append((value, 1))
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _http_error(error: HTTPException) -> Response:
    if error.status_code == 404:  # Strawberry's only 404: GraphiQL is off
        message = "GraphiQL is off (TRADEGRAPH_GRAPHIQL=true turns it on); POST queries here"
        return graphql_error_response(404, "NOT_FOUND", message)
    return graphql_error_response(error.status_code, "BAD_USER_INPUT", error.reason)
