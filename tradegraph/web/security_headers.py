"""Security headers on every HTTP response: a Content-Security-Policy, no framing, no MIME
sniffing, no Referer.

Generic on purpose: a page added later (a new route, a static file) gets the strict page policy
without doing anything. Two exceptions are named here, by path:
- GraphiQL (GET /graphql answered with HTML) has one inline <style>, allowed by its hash;
- scripts other sites embed (`/widgets.js`) carry no framing refusal and say
  `Cross-Origin-Resource-Policy: cross-origin`, so a third-party page may load them.
"""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradegraph.web.graphiql import INLINE_STYLE

# The dashboard's policy (and every other page's): only this origin, no inline code.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def style_hash(css: str) -> str:
    """A CSP source allowing exactly one inline <style> element."""
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


# GraphiQL: the same, plus its page's one inline <style>, allowed by hash.
GRAPHIQL_POLICY = PAGE_POLICY.replace(
    "style-src 'self'", f"style-src 'self' '{style_hash(INLINE_STYLE)}'"
)
# Scripts that other sites load with <script src>: the browser ignores a CSP on a script, and a
# framing or same-origin resource policy would only stop the embedding page.
EMBEDDABLE_SCRIPTS = frozenset({"/widgets.js"})
GRAPHIQL_PATH = "/graphql"

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
NOT_FRAMEABLE = {"x-frame-options": "DENY"}


def headers_for(path: str, content_type: str) -> dict[str, str]:
    """The security headers of a response to `path` with `content_type`."""
    if path in EMBEDDABLE_SCRIPTS:
        return {**COMMON, "cross-origin-resource-policy": "cross-origin"}
    is_graphiql = path == GRAPHIQL_PATH and content_type.startswith("text/html")
    policy = GRAPHIQL_POLICY if is_graphiql else PAGE_POLICY
    return {**COMMON, **NOT_FRAMEABLE, "content-security-policy": policy}


class SecurityHeaders:
    """ASGI middleware: adds `headers_for(...)` to every HTTP response that does not set them
    itself (a route may choose its own, e.g. a stricter policy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(path, headers.get("content-type", "")).items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
