"""CORS for widget-key requests: a page on any origin may send `X-Widget-Key` to /graphql and
read the answer. That answer is the key's market data only if the page's origin is one of the
key's (the GraphQL view checks), else the refusal, readable so the widget can show it."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradegraph.web.cors import ALLOWED_METHODS, PREFLIGHT_MAX_AGE, Cors, OriginPolicy, well_formed

GRAPHQL_PATH = "/graphql"  # the only route a widget key opens to other origins
WIDGET_KEY_HEADER = "x-widget-key"
WIDGET_HEADERS = frozenset({WIDGET_KEY_HEADER, "content-type"})


class WidgetKeyCors(Cors):
    """The origin policy's CORS, plus widget-key requests to /graphql from any origin (never
    with credentials: a widget key is the request's only authority). Other paths (metrics,
    exports, health) keep the policy alone, whatever headers a request carries."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        super().__init__(app, policy)
        self.policy_only = Cors(app, policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != GRAPHQL_PATH:
            await self.policy_only(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        if not _widget_preflight(request_headers) or not well_formed(request_headers["origin"]):
            return super().preflight_response(request_headers)
        headers = {
            "Access-Control-Allow-Origin": request_headers["origin"],
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Allow-Headers": ", ".join(sorted(WIDGET_HEADERS)),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        return Response(status_code=204, headers=headers)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        starting = message["type"] == "http.response.start"
        widget = WIDGET_KEY_HEADER in request_headers and starting
        if widget and origin is not None and well_formed(origin) and not self.policy.allows(origin):
            message.setdefault("headers", [])
            self.allow_explicit_origin(MutableHeaders(scope=message), origin)
            await send(message)
            return
        await super().send(message, send, request_headers)


def _widget_preflight(request_headers: Headers) -> bool:
    """A preflight for a widget-key request: it asks for X-Widget-Key and nothing else but
    content-type, with a method the API takes."""
    asked = request_headers.get("access-control-request-headers", "")
    names = {name.strip().lower() for name in asked.split(",") if name.strip()}
    method = request_headers.get("access-control-request-method")
    return WIDGET_KEY_HEADER in names and names <= WIDGET_HEADERS and method in ALLOWED_METHODS
