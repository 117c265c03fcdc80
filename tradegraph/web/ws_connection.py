"""What both WebSocket protocol handlers (web/graphql_ws.py) do with one connection: refuse a
bad connection_init, acknowledge a good one (counting the socket for its user), and end the
socket when its access token expires (close 4403 "token expired")."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.types.unset import UnsetType

from tradegraph.schema.core.context import Context
from tradegraph.web.ws_limits import UserLimits, close_reason
from tradegraph.web.ws_messages import INIT_TOO_LARGE, MAX_INIT_BYTES

BAD_MESSAGE = 4400
INVALID_INIT = "Invalid connection init payload"
KEPT_PARAMS = ("Authorization", "authorization")  # all a socket needs after its handshake

FORBIDDEN = 4403
TOKEN_EXPIRED = "token expired"
SEND_TOKEN = 'send {"Authorization": "Bearer <accessToken>"} in connection_init'


def rejection_reason(rejection: ConnectionRejectionError) -> str:
    """The close reason of a refused connection_init: what to send instead."""
    message = rejection.payload.get("message")
    reason = message if isinstance(message, str) and message else SEND_TOKEN
    return close_reason(reason)


class TokenLifetime:
    """Mixed into both protocol handlers: an acknowledged socket lives only as long as the
    access token it was opened with. A timer closes it 4403 "token expired" at the token's
    `exp`, and an operation started after that (before the timer ran) is refused the same way."""

    context: Context
    websocket: AsyncWebSocketAdapter
    # A timer, not a sleeping task: an idle socket costs less (tasks are per socket).
    _expiry_timer: asyncio.TimerHandle | None = None
    _closing: asyncio.Task[None] | None = None

    def start_token_timer(self) -> None:
        token = self.context.access_token
        if token is not None and self._expiry_timer is None:
            loop = asyncio.get_running_loop()
            self._expiry_timer = loop.call_later(max(0.0, token.seconds_left()), self._expire)

    async def stop_token_timer(self) -> None:
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()

    async def refused_as_expired(self) -> bool:
        """Closes the socket and says True when the token has expired."""
        token = self.context.access_token
        if token is None or not token.expired():
            return False
        await self._close_expired()
        return True

    def _expire(self) -> None:
        self._closing = asyncio.create_task(self._close_expired())

    async def _close_expired(self) -> None:
        with contextlib.suppress(Exception):  # already closed by the client: nothing to do
            await self.websocket.close(code=FORBIDDEN, reason=TOKEN_EXPIRED)


class Acknowledging(TokenLifetime, UserLimits):
    """Mixed into both handlers: the start and end of a connection_init, the same on both
    protocols: refuse an oversized one; once accepted, keep only the params auth needs, count
    the socket for its user, acknowledge, start the token's timer."""

    connection_acknowledged: bool

    if TYPE_CHECKING:  # the protocol handler's; a definition here would shadow it in the MRO

        async def send_message(self, message: Any) -> None: ...

    async def refused_init(self, payload: object) -> bool:
        """Closes the socket 4400 (True) for a connection_init over MAX_INIT_BYTES or whose
        payload is not an object."""
        size: int = getattr(self.websocket, "last_message_chars", 0)
        if size > MAX_INIT_BYTES:
            await self.websocket.close(code=BAD_MESSAGE, reason=INIT_TOO_LARGE)
            return True
        if payload is not None and not isinstance(payload, dict):
            await self.websocket.close(code=BAD_MESSAGE, reason=INVALID_INIT)
            return True
        return False

    async def acknowledge(self, ack_payload: object) -> bool:
        """False when the socket was refused (closed 4429 past the user's limit)."""
        params = self.context.connection_params or {}
        # A socket lives for hours: what it keeps of its init must be what auth needs.
        self.context.connection_params = {k: params[k] for k in KEPT_PARAMS if k in params}
        if not await self.admit_connection():
            return False
        if isinstance(ack_payload, UnsetType) or ack_payload is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        self.start_token_timer()
        return True
