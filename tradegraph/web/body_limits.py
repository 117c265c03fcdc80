"""Refuses request bodies while they stream in, before they are whole: over a size with 413,
and a JSON body past the value or depth limits (web/json_cost.py) with 400 at the first piece
that passes them, so a refusal costs the server what it read up to the excess.

Big bodies are read one at a time (`BigBodyLane`): while one is read, the others wait with
their connections paused (uvicorn stops reading a body nobody asks for), so however many big
bodies one caller sends at once, the event loop has one of them to serve between everyone
else's requests, not all of them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradegraph.web.errors import graphql_error_response
from tradegraph.web.json_cost import CostScan, JSONTooCostly, scanned_body

LANE_BYTES = 64 * 1024  # bodies larger than this are read one at a time
LANE_WAIT_SECONDS = 1.0  # the longest a body waits for its turn; then it is read anyway
LANE_HOLD_SECONDS = 1.0  # a slow sender gives its turn up after this and reads on without it


class BigBodyLane:
    """One big body read at a time, best effort: a turn is given up after LANE_HOLD_SECONDS
    and a body that waited LANE_WAIT_SECONDS is read anyway, so a slow sender delays another
    big body by a second at most and never refuses it."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self._lock.acquire(), LANE_WAIT_SECONDS)
        except TimeoutError:
            yield  # read without a turn: late, never refused
            return
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._lock.release()

        timer = asyncio.get_running_loop().call_later(LANE_HOLD_SECONDS, release)
        try:
            yield
        finally:
            timer.cancel()
            release()


class BodyLimit:
    """ASGI middleware: a POST to `path` declaring or sending more than `max_bytes` gets 413
    with a GraphQL-shaped error, a JSON one too costly to parse gets 400; the app then sees
    the body it would have read anyway."""

    def __init__(self, app: ASGIApp, path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes
        self.lane = BigBodyLane()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        if declared.isdigit() and int(declared) <= LANE_BYTES:
            body = await self._read(scope, receive, send)
        else:
            async with self.lane.turn():  # declared big, or chunked: it may be big
                body = await self._read(scope, receive, send)
        if body is not None:
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once it is refused (answered) or the client went away."""
        headers = dict(scope["headers"])
        # The same test as the view's: only bodies it parses as JSON are scanned.
        scan = CostScan() if b"json" in headers.get(b"content-type", b"") else None
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return None  # the client went away
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return None
                chunks.append(chunk)
                if scan is not None:
                    scan.feed(chunk)
                if not message.get("more_body", False):
                    break
            if scan is not None:
                scan.finish()
        except JSONTooCostly as refused:
            await graphql_error_response(400, "BAD_USER_INPUT", refused.msg)(scope, receive, send)
            return None
        body = b"".join(chunks)
        if scan is not None:
            scanned_body(body)
        return body

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
