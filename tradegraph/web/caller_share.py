"""Each caller's share of the event loop: at most `per_caller` GraphQL requests of one caller
run at once; the caller's further requests wait their turn in arrival order, and past
`max_waiting` of them a request is refused RATE_LIMITED before any of it is read.

One event loop serves everyone, and its ready queue is first come, first served: a caller with
80 requests in flight puts 80 steps ahead of every other caller's next step, so the others'
latency grows with the flooder's concurrency, not with their own work. Capping each caller's
running requests caps what one caller can put in that queue, and a waiting request costs a
parked coroutine (its body stays unread: uvicorn pauses the connection).

A caller is the user of a valid access token, else the client address (web/client_address.py:
behind a proxy, set TRADEGRAPH_TRUSTED_PROXIES or every anonymous caller shares one address).
The shares live in the process, like the other per-user limits (web/user_quota.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from tradegraph.auth.tokens import bearer_token, decode_access_token
from tradegraph.web.errors import graphql_error_response


class ShareExhausted(Exception):
    """More of this caller's requests are waiting than a share may queue."""


@dataclass
class _Share:
    running: int = 0
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)


class CallerShares:
    """Per-caller counts of running requests, with a first-come queue for the rest."""

    def __init__(self, per_caller: int, max_waiting: int) -> None:
        self.per_caller = per_caller
        self.max_waiting = max_waiting
        self._shares: dict[str, _Share] = {}
        self.refused = 0  # requests refused past max_waiting, since start

    @contextlib.asynccontextmanager
    async def turn(self, caller: str) -> AsyncIterator[None]:
        """Runs the body once `caller` has a free slot; ShareExhausted (nothing waited) when
        `max_waiting` of its requests already wait."""
        share = self._shares.setdefault(caller, _Share())
        if share.running >= self.per_caller or share.waiting:
            if len(share.waiting) >= self.max_waiting:
                self.refused += 1
                raise ShareExhausted
            ready = asyncio.get_running_loop().create_future()
            share.waiting.append(ready)
            try:
                await ready  # the slot is handed over by _release: `running` already counts it
            except asyncio.CancelledError:
                if ready.done() and not ready.cancelled():
                    self._release(caller, share)  # handed over as we were cancelled: pass it on
                else:
                    if ready in share.waiting:  # a release may have passed over it already
                        share.waiting.remove(ready)
                    self._forget_if_idle(caller, share)
                raise
        else:
            share.running += 1
        try:
            yield
        finally:
            self._release(caller, share)

    def refused_message(self) -> str:
        return (
            f"too many requests at once from this caller: {self.per_caller} run and "
            f"{self.max_waiting} wait at most; wait for answers before sending more"
        )

    def running(self, caller: str | None = None) -> int:
        """Requests running now: of `caller`, or of everyone."""
        if caller is not None:
            share = self._shares.get(caller)
            return share.running if share else 0
        return sum(share.running for share in self._shares.values())

    def waiting(self) -> int:
        """Requests waiting for a turn now, of everyone."""
        return sum(len(share.waiting) for share in self._shares.values())

    def callers(self) -> int:
        """Callers with a request running or waiting: the table is as large as that, not ever."""
        return len(self._shares)

    def _release(self, caller: str, share: _Share) -> None:
        while share.waiting:
            ready = share.waiting.popleft()
            if not ready.done():
                ready.set_result(None)  # the slot passes on: `running` stays as it is
                return
        share.running -= 1
        self._forget_if_idle(caller, share)

    def _forget_if_idle(self, caller: str, share: _Share) -> None:
        if share.running == 0 and not share.waiting:
            self._shares.pop(caller, None)


# In the ASGI scope: (the Authorization value, its verified AccessToken or None), so that the
# view's context (web/graphql.py) does not verify the same token a second time.
VERIFIED_TOKEN = "tradegraph.verified_token"


def user_caller(user_id: str) -> str:
    """The caller a signed-in user is, over HTTP (caller_of) and WebSocket alike."""
    return "user:" + user_id


def caller_of(scope: Scope, secret: str) -> str:
    """`user:<id>` for a valid access token, else `address:<client host>`."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            header = value.decode("latin-1")
            token = bearer_token(header)
            verified = decode_access_token(token, secret) if token else None
            scope[VERIFIED_TOKEN] = (header, verified)
            if verified is not None:
                return user_caller(verified.principal.user_id)
            break
    client = scope.get("client")
    return "address:" + (client[0] if client else "unknown")


class CallerShareLimit:
    """ASGI middleware: each request to `path` runs within its caller's share (CallerShares)."""

    def __init__(self, app: ASGIApp, path: str, shares: CallerShares, secret: str) -> None:
        self.app = app
        self.path = path
        self.shares = shares
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            async with self.shares.turn(caller_of(scope, self.secret)):
                await self.app(scope, receive, send)
        except ShareExhausted:
            message = self.shares.refused_message()
            response = graphql_error_response(429, "RATE_LIMITED", message)
            response.headers["retry-after"] = "1"
            await response(scope, receive, send)
