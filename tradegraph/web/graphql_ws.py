"""The two GraphQL WebSocket protocol handlers (graphql-transport-ws and legacy graphql-ws).

Adds what Strawberry leaves out: authentication at connection_init (close 4403 with a reason
saying what to send) and a socket that ends when its access token expires (web/ws_connection.py),
server pings on idle graphql-transport-ws sockets, an init timeout for legacy graphql-ws,
per-user limits (web/ws_limits.py), and shared execution of public subscriptions on
graphql-transport-ws (web/shared_feeds.py). The Strawberry internals they rely on are named in
web/strawberry_ws.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonJsonMessageReceived

from tradegraph.schema.core.context import Context
from tradegraph.web.caller_share import CallerShares, ShareExhausted, user_caller
from tradegraph.web.shared_feeds import Member, shareable
from tradegraph.web.socket_outbox import SocketOutbox
from tradegraph.web.strawberry_ws import LegacyWSHandler, TransportWSHandler, starlette_socket
from tradegraph.web.ws_connection import (
    BAD_MESSAGE,
    FORBIDDEN,
    Acknowledging,
    rejection_reason,
)
from tradegraph.web.ws_limits import TOO_MANY, CountedOperations, close_reason, rate_limited_error


class PingingTransportWSHandler(Acknowledging, TransportWSHandler[Context, None]):
    """graphql-transport-ws: sends {"type": "ping"} whenever nothing was sent for
    `keepalive_seconds`; closes 4403 with a reason on a refused init or an expired token."""

    _ping_timer: asyncio.TimerHandle | None = None
    _ping: asyncio.Task[None] | None = None
    _last_sent = 0.0
    outbox: SocketOutbox | None = None  # made at the first shared subscription
    _socket: WebSocket | None = None  # what the outbox writes encoded frames to

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry's table of running operations (web/strawberry_ws.py), counted per user.
        self.counted = CountedOperations(self.end_subscription)
        self.operations = self.counted
        self._single_results: set[str] = set()  # ids of queries and mutations not yet started

    async def handle_connection_init(self, message: Any) -> None:
        # Strawberry's own version closes a refused init with the bare reason "Forbidden".
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload", {})
        if await self.refused_init(payload):
            return
        if self.connection_init_received:
            await self.websocket.close(code=TOO_MANY, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as rejection:
            await self.websocket.close(code=FORBIDDEN, reason=rejection_reason(rejection))
            return
        if not await self.acknowledge(ack_payload):
            return
        if self._ping_timer is None:
            self._schedule_ping(self.view.keepalive_seconds)

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and await self.refused_as_expired():
            return
        operation_id = message["id"]
        payload = message.get("payload")
        shape = None
        if self.connection_acknowledged and operation_id not in self.counted:
            shape = self.subscription_shape(payload)
        if shape is None:
            if self.connection_acknowledged and self.context.widget_grant is None:
                self._single_results.add(operation_id)  # a query or mutation: runs in a share
            await super().handle_subscribe(message)
            if operation_id not in self.operations:  # refused: it will never run
                self._single_results.discard(operation_id)
            return
        if not self.admit_subscription():
            error = rate_limited_error(self.quota.subscriptions_refused_message())
            await self.send_message({"id": operation_id, "type": "error", "payload": [error]})
            return
        try:
            if shareable(shape.kind, shape.root_fields) and await self._may_share(payload):
                self._join_shared(operation_id, payload)
                return
            await super().handle_subscribe(message)
        except BaseException:
            if operation_id not in self.counted:  # the slot was never handed to it
                self.end_subscription()
            raise
        if operation_id in self.counted:
            self.counted.count(operation_id)
        else:
            self.end_subscription()

    async def run_operation(self, operation: Any) -> None:
        """A query or mutation of a user's socket runs within that user's share, the same as
        over HTTP (web/caller_share.py); subscriptions have their own per-user limit."""
        principal = self.context.principal
        if operation.id not in self._single_results or principal is None:
            await super().run_operation(operation)
            return
        self._single_results.discard(operation.id)
        shares: CallerShares = self.view.caller_shares
        try:
            async with shares.turn(user_caller(principal.user_id)):
                await super().run_operation(operation)
        except ShareExhausted:
            error = rate_limited_error(shares.refused_message())
            await self.send_message({"id": operation.id, "type": "error", "payload": [error]})
            self.counted.pop(operation.id, None)

    async def send_message(self, message: Any) -> None:
        self._last_sent = time.monotonic()
        await super().send_message(message)

    async def handle_invalid_message(self, error_message: str) -> None:
        refusal: str | None = getattr(self.websocket, "refusal", None)  # a limit, named
        await self.websocket.close(code=BAD_MESSAGE, reason=close_reason(refusal or error_message))

    async def _may_share(self, payload: dict[str, Any]) -> bool:
        # A widget key joins only feeds its grant covers (the feed runs with the context of
        # its first socket); a refused one gets its FORBIDDEN error from the unshared path.
        if self.context.widget_grant is not None:
            shares: bool = self.view.widget_may_share(self.context.widget_grant, payload)
            return shares
        # A deleted account gets its UNAUTHENTICATED error from the unshared path.
        return await self.context.resolve_principal() is not None

    def _join_shared(self, operation_id: str, payload: dict[str, Any]) -> None:
        if self.outbox is None:
            self._socket = starlette_socket(self.websocket)
            self.outbox = SocketOutbox(self._send_text)
        member = Member(operation_id, self.outbox, self._shared_ended)
        self.counted[operation_id] = member  # stands in Strawberry's table, like its own
        self.counted.count(operation_id)
        variables = payload.get("variables")
        name = payload.get("operationName")
        self.view.shared_feeds.join(
            member,
            payload["query"],
            variables if isinstance(variables, dict) else None,
            name if isinstance(name, str) else None,
            self.context,
        )

    def _shared_ended(self, operation_id: str) -> None:
        """The shared feed ended this operation: its id (and its user's slot) is free."""
        self.counted.pop(operation_id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.counted.get(operation_id)
        if not isinstance(operation, Member):
            await super().cleanup_operation(operation_id)
            return
        self.counted.pop(operation_id, None)
        self.view.shared_feeds.leave(operation)
        if self.outbox is not None:
            self.outbox.drop(operation_id)

    async def _send_text(self, frame: str) -> None:
        assert self._socket is not None  # set with the outbox
        self._last_sent = time.monotonic()
        await self._socket.send_text(frame)

    async def shutdown(self) -> None:
        await self.stop_token_timer()
        if self._ping_timer is not None:
            self._ping_timer.cancel()
        if self._ping is not None:
            self._ping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ping
        try:
            await super().shutdown()
        finally:
            self.release_connection()
            if self.outbox is not None:
                await self.outbox.close()

    def _schedule_ping(self, delay: float) -> None:
        self._ping_timer = asyncio.get_running_loop().call_later(delay, self._ping_if_idle)

    def _ping_if_idle(self) -> None:
        interval: float = self.view.keepalive_seconds
        idle = time.monotonic() - self._last_sent
        if idle < interval:
            self._schedule_ping(interval - idle)
            return
        if self._ping is None or self._ping.done():  # a slow reader may still hold the last
            self._ping = asyncio.create_task(self._send_ping())
        self._schedule_ping(interval)

    async def _send_ping(self) -> None:
        with contextlib.suppress(Exception):  # a closed socket: shutdown stops the timer
            await self.send_message({"type": "ping", "payload": {"reason": "keepalive"}})


class TimedInitWSHandler(Acknowledging, LegacyWSHandler[Context, None]):
    """Legacy graphql-ws, with graphql-transport-ws's rules and close codes: 4408 when
    connection_init does not arrive in time, 4400 for a bad or oversized init or a message
    that is not JSON the server takes (Strawberry: 1000, or ignored), and 4403 (not 1011) with
    a reason on a refused init or an expired token."""

    _init_received = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry's table of running operations (web/strawberry_ws.py), counted per user.
        self.counted = CountedOperations(self.end_subscription)
        self.tasks = self.counted

    async def handle(self) -> None:
        timer = asyncio.create_task(self._close_without_init())
        try:
            await super().handle()
        except NonJsonMessageReceived:
            refusal: str | None = getattr(self.websocket, "refusal", None)
            reason = close_reason(refusal or "WebSocket message must be valid JSON")
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.websocket.close(code=BAD_MESSAGE, reason=reason)
        finally:
            timer.cancel()
            await self.stop_token_timer()
            self.release_connection()

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload")
        if await self.refused_init(payload):
            return
        if self._init_received:  # a second init must not swap the socket's token
            await self.websocket.close(code=TOO_MANY, reason="Too many initialisation requests")
            return
        self._init_received = True
        self.context.connection_params = payload
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as rejection:
            await self.send_message({"type": "connection_error", "payload": rejection.payload})
            await self.websocket.close(code=FORBIDDEN, reason=rejection_reason(rejection))
            return
        if not await self.acknowledge(ack_payload):
            return
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_start(self, message: Any) -> None:
        if self.connection_acknowledged and await self.refused_as_expired():
            return
        operation_id = message["id"]
        shape = self.subscription_shape(message.get("payload"))
        if not self.connection_acknowledged or shape is None:
            await super().handle_start(message)
            return
        if operation_id in self.tasks:  # Strawberry replaces it: free its slot first
            await self.cleanup_operation(operation_id)
        if not self.admit_subscription():
            error = rate_limited_error(self.quota.subscriptions_refused_message())
            refusal: Any = {"type": "error", "id": operation_id, "payload": error}
            await self.send_message(refusal)
            return
        await super().handle_start(message)
        if operation_id in self.counted:
            self.counted.count(operation_id)
        else:
            self.end_subscription()

    async def _close_without_init(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=4408, reason="Connection initialisation timeout")
