"""The GraphQL view: HTTP, GraphiQL, and WebSocket (graphql-transport-ws and legacy graphql-ws).

Adds what Strawberry leaves out: authentication at connection_init (close 4403 with a reason
saying what to send), JSON errors for refused HTTP requests, and JSON cost limits
(web/json_cost.py; big bodies are decoded off the event loop). The
WebSocket protocol handlers (token lifetime, pings, per-user limits) are in web/graphql_ws.py.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import structlog
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from tradegraph.api import build_schema
from tradegraph.config import Settings
from tradegraph.error_codes import error_code
from tradegraph.errors import ServiceUnavailable
from tradegraph.schema.core.context import ACCOUNT_GONE, Context
from tradegraph.schema.core.query_cost import QueryLimits
from tradegraph.web.caller_share import VERIFIED_TOKEN, CallerShares
from tradegraph.web.cors import OriginPolicy, WebSocketOriginCheck
from tradegraph.web.errors import graphql_error_response
from tradegraph.web.graphiql import OfflineGraphiQL
from tradegraph.web.graphql_ws import PingingTransportWSHandler, TimedInitWSHandler
from tradegraph.web.json_cost import JSONTooCostly, decode, decode_off_loop
from tradegraph.web.shared_feeds import SharedFeeds
from tradegraph.web.strawberry_ws import graphql_core_schema
from tradegraph.web.user_quota import UserQuota
from tradegraph.web.widget_sockets import (
    WidgetKeyQuota,
    WidgetSockets,
    grant_covers,
    is_widget_handshake,
)
from tradegraph.web.ws_connection import SEND_TOKEN
from tradegraph.web.ws_messages import MeasuredWebSocketAdapter
from tradegraph.widgets.grants import WidgetGrant
from tradegraph.widgets.keys import TwoCredentials, WidgetKeyRefused, WidgetOriginRefused

log = structlog.get_logger("tradegraph.widgets")

WIDGET_REFUSALS = (WidgetKeyRefused, WidgetOriginRefused, TwoCredentials)
SEND_WIDGET_KEY = 'send {"widgetKey": "wk_…"} in connection_init'
ONE_CREDENTIAL = "send a widget key or an access token, not both"


class GraphQLView(WebSocketOriginCheck, OfflineGraphiQL, GraphQL[Context, None]):
    graphql_transport_ws_handler_class = PingingTransportWSHandler
    graphql_ws_handler_class = TimedInitWSHandler
    websocket_adapter_class = MeasuredWebSocketAdapter

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
        self.max_tokens = settings.graphql_max_tokens
        self.user_quota = UserQuota(
            max_connections=settings.max_connections_per_user,
            max_subscriptions=settings.max_subscriptions_per_user,
        )
        self.caller_shares = CallerShares(
            settings.max_running_requests_per_caller, settings.max_waiting_requests_per_caller
        )
        self.shared_feeds = SharedFeeds(self.schema, self.encode_json)
        self.widget_quota = WidgetKeyQuota(
            max_connections=settings.widget_key_max_connections,
            max_subscriptions=settings.widget_key_max_subscriptions,
        )
        self.widget_sockets = WidgetSockets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:  # Strawberry answers these in plain text
            response = _http_error(error)
        except WIDGET_REFUSALS as refused:  # raised by get_context, before any execution
            row = error_code(refused)
            response = graphql_error_response(row.http_status, row.code, refused.message)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request.app.state.services, request, response)
        if not isinstance(request, Request):
            return context
        authorization = request.headers.get("authorization")
        widget_key = request.headers.get("x-widget-key")
        if widget_key is None:
            verified = request.scope.get(VERIFIED_TOKEN)  # by the caller share, this request
            if verified is not None and verified[0] == authorization:
                context.accept(authorization, verified[1])
            else:
                context.authenticate(authorization)
            return context
        if authorization is not None:
            raise TwoCredentials(ONE_CREDENTIAL)
        origin = request.headers.get("origin")
        context.widget_grant = await context.services.widget_keys.admit(widget_key, origin)
        return context

    def widget_may_share(self, grant: WidgetGrant, payload: dict[str, Any]) -> bool:
        """Whether a widget socket's subscription may join a shared feed (web/graphql_ws.py)."""
        schema = graphql_core_schema(self.schema)
        return grant_covers(grant, schema, payload, self.max_tokens)

    def is_websocket_origin_allowed(self, request: object, origin: str) -> bool:
        # A widget socket's origin is checked against its key's origins at connection_init.
        return is_widget_handshake(request) or super().is_websocket_origin_allowed(request, origin)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if "widgetKey" in params or is_widget_handshake(context.request):
            await _admit_widget_key(context, params.get("widgetKey"), authorization)
            acknowledged_widget: UnsetType = UNSET
            return acknowledged_widget
        if context.authenticate(authorization) is None:
            problem = "access token invalid or expired; " if authorization is not None else ""
            raise ConnectionRejectionError({"message": problem + SEND_TOKEN})
        if await context.resolve_principal() is None:
            raise ConnectionRejectionError({"message": ACCOUNT_GONE})
        acknowledged: UnsetType = UNSET  # connection_ack without a payload
        return acknowledged

    def decode_json(self, data: str | bytes) -> object:
        """JSON of a request body or a WebSocket message (web/json_cost.py): refused past
        MAX_JSON_VALUES values or MAX_JSON_DEPTH levels before it is parsed. A
        JSONDecodeError: the view answers 400, graphql-transport-ws closes with 4400."""
        return decode(data)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = _parsed_body.get()
        if parsed is not None and parsed[0] is data:  # decoded by parse_http_body already
            return parsed[1]
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as error:
            raise _bad_json(error) from error

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's, but a big JSON body is decoded off the event loop first."""
        if request.method != "POST" or "json" not in (request.content_type or ""):
            return await super().parse_http_body(request)
        body = await request.get_body()
        try:
            value = await decode_off_loop(body)
        except json.JSONDecodeError as error:
            raise _bad_json(error) from error
        token = _parsed_body.set((body, value))
        try:
            return await super().parse_http_body(request)
        finally:
            _parsed_body.reset(token)

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
            result = await self.schema.execute(
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
        retry_after = _service_unavailable_retry(result)
        if retry_after is not None:  # the store still loading after a restart, ...
            sub_response.headers["retry-after"] = str(retry_after)
        return result


def _service_unavailable_retry(result: ExecutionResult) -> int | None:
    """The Retry-After of a SERVICE_UNAVAILABLE error in `result`, if there is one."""
    for error in result.errors or ():
        if isinstance(error.original_error, ServiceUnavailable):
            seconds = error.original_error.details.get("retry_after_seconds")
            if isinstance(seconds, int):
                return seconds
    return None


HTTP_OPERATIONS = {
    "GET": (OperationType.QUERY,),
    "POST": (OperationType.QUERY, OperationType.MUTATION),
}
SUBSCRIPTION_OVER_HTTP = (
    "subscriptions run over a WebSocket: connect to /graphql with the graphql-transport-ws"
    " protocol (or legacy graphql-ws)"
)


# The body parse_http_body decoded, for Strawberry's parse_json call on the same bytes.
_parsed_body: ContextVar[tuple[str | bytes, object] | None] = ContextVar("parsed", default=None)


def _bad_json(error: json.JSONDecodeError) -> HTTPException:
    if isinstance(error, JSONTooCostly):
        return HTTPException(400, error.msg)
    return HTTPException(400, f"request body is not valid JSON: {error}")


async def _admit_widget_key(context: Context, widget_key: object, authorization: object) -> None:
    """Gives the socket its widget key's grant, or refuses connection_init (4403, the reason)."""
    if authorization is not None:
        raise ConnectionRejectionError({"message": ONE_CREDENTIAL})
    if widget_key is None:  # a widget socket (?widget) takes no access token
        raise ConnectionRejectionError({"message": SEND_WIDGET_KEY})
    origin = context.request.headers.get("origin")
    try:
        context.widget_grant = await context.services.widget_keys.admit(widget_key, origin)
    except WIDGET_REFUSALS as refused:
        log.info("widget socket refused", reason=refused.message, origin=origin)
        raise ConnectionRejectionError({"message": refused.message}) from None


def _http_error(error: HTTPException) -> Response:
    if error.status_code == 404:  # Strawberry's only 404: GraphiQL is off
        message = "GraphiQL is off (TRADEGRAPH_GRAPHIQL=true turns it on); POST queries here"
        return graphql_error_response(404, "NOT_FOUND", message)
    return graphql_error_response(error.status_code, "BAD_USER_INPUT", error.reason)
