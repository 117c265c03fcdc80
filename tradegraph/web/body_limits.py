"""Refuses request bodies while they stream in, before they are whole: over a size with 413,
and a JSON body past the value or depth limits (web/json_cost.py) with 400 at the first piece
that passes them, so a refusal costs the server what it read up to the excess."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradegraph.web.errors import graphql_error_response
from tradegraph.web.json_cost import CostScan, JSONTooCostly, scanned_body


class BodyLimit:
    """ASGI middleware: a POST to `path` declaring or sending more than `max_bytes` gets 413
    with a GraphQL-shaped error, a JSON one too costly to parse gets 400; the app then sees
    the body it would have read anyway."""

    def __init__(self, app: ASGIApp, path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        # The same test as the view's: only bodies it parses as JSON are scanned.
        scan = CostScan() if b"json" in headers.get(b"content-type", b"") else None
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
                chunks.append(chunk)
                if scan is not None:
                    scan.feed(chunk)
                if not message.get("more_body", False):
                    break
            if scan is not None:
                scan.finish()
        except JSONTooCostly as refused:
            await graphql_error_response(400, "BAD_USER_INPUT", refused.msg)(scope, receive, send)
            return
        body = b"".join(chunks)
        if scan is not None:
            scanned_body(body)
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body exceeds {self.max_bytes} bytes (TRADEGRAPH_GRAPHQL_MAX_BODY_BYTES)"
        await graphql_error_response(413, "BAD_USER_INPUT", message)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields `body` whole, then whatever comes next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
