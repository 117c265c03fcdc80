"""The GraphQL view: HTTP, GraphiQL, and WebSocket (graphql-transport-ws and legacy graphql-ws).

Adds what Strawberry leaves out: authentication at connection_init (close 4403 with a reason
saying what to send), JSON errors for refused HTTP requests, and JSON depth limits. The
WebSocket protocol handlers (token lifetime, pings, per-user limits) are in web/graphql_ws.py.
"""

from __future__ import annotations

import json
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
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from tradegraph.api import build_schema
from tradegraph.config import Settings
from tradegraph.errors import ServiceUnavailable
from tradegraph.schema.context import ACCOUNT_GONE, Context
from tradegraph.schema.query_limits import QueryLimits
from tradegraph.schema.scalars import json_number
from tradegraph.web.cors import OriginPolicy, WebSocketOriginCheck
from tradegraph.web.errors import graphql_error_response
from tradegraph.web.graphiql import OfflineGraphiQL
from tradegraph.web.graphql_ws import (
    SEND_TOKEN,
    PingingTransportWSHandler,
    TimedInitWSHandler,
)
from tradegraph.web.shared_feeds import SharedFeeds
from tradegraph.web.user_quota import UserQuota


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
        self.max_tokens = settings.graphql_max_tokens
        self.user_quota = UserQuota(
            max_connections=settings.max_connections_per_user,
            max_subscriptions=settings.max_subscriptions_per_user,
        )
        self.shared_feeds = SharedFeeds(self.schema, self.encode_json)

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
