"""Per-user (and per widget key) WebSocket limits, and what they need to know about a
subscribe message.

`UserLimits` (mixed into both protocol handlers) counts a socket against its user at
connection_init (close 4429 past TRADEGRAPH_MAX_CONNECTIONS_PER_USER) and each subscription
until it ends (a `RATE_LIMITED` error past TRADEGRAPH_MAX_SUBSCRIPTIONS_PER_USER, the socket
stays open); `CountedOperations` gives a slot back however Strawberry removes the operation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from graphql import FieldNode, GraphQLError, GraphQLSyntaxError, OperationDefinitionNode, parse
from graphql.language import OperationType
from strawberry.http.async_base_view import AsyncWebSocketAdapter

from tradegraph.error_codes import error_code
from tradegraph.errors import TooManyRequests
from tradegraph.schema.core.context import Context

if TYPE_CHECKING:
    from tradegraph.web.user_quota import UserQuota

TOO_MANY = 4429
MAX_CLOSE_REASON_BYTES = 123  # a close frame's reason must fit in 125 bytes with the code
SHAPE_CACHE_MAX_TEXT = 16 * 1024  # longer documents are described without caching


def close_reason(reason: str) -> str:
    """`reason` cut to what a close frame can carry."""
    return reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


class OperationShape(NamedTuple):
    """What a subscribe message asks for: the operation's kind and its root field names."""

    kind: OperationType
    root_fields: frozenset[str]


def operation_shape(
    query: str, operation_name: str | None, max_tokens: int
) -> OperationShape | None:
    """The shape of the operation `operation_name` selects in `query`; None when the document
    does not parse or names no such operation (Strawberry then answers with the right error)."""
    if len(query) <= SHAPE_CACHE_MAX_TEXT:
        return _cached_shape(query, operation_name, max_tokens)
    return _shape(query, operation_name, max_tokens)


@functools.lru_cache(maxsize=512)
def _cached_shape(query: str, operation_name: str | None, max_tokens: int) -> OperationShape | None:
    return _shape(query, operation_name, max_tokens)


def _shape(query: str, operation_name: str | None, max_tokens: int) -> OperationShape | None:
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    fields = operation.selection_set.selections
    names = frozenset(f.name.value for f in fields if isinstance(f, FieldNode))
    # A root fragment spread hides its fields: an empty set never matches a shared feed.
    shown = names if all(isinstance(f, FieldNode) for f in fields) else frozenset()
    return OperationShape(operation.operation, shown)


def rate_limited_error(message: str) -> dict[str, Any]:
    """A GraphQL error as the protocols send it, coded like the domain's TooManyRequests."""
    code = error_code(TooManyRequests(message)).code
    return GraphQLError(message, extensions={"code": code}).formatted  # type: ignore[return-value]


class CountedOperations(dict[str, Any]):
    """A handler's table of running operations that gives a user's subscription slot back
    whenever a counted operation leaves it, by whichever path Strawberry removes it."""

    def __init__(self, release: Callable[[], None]) -> None:
        super().__init__()
        self._release = release
        self._counted: set[str] = set()

    def count(self, operation_id: str) -> None:
        self._counted.add(operation_id)

    def __delitem__(self, operation_id: str) -> None:
        super().__delitem__(operation_id)
        self._forget(operation_id)

    def pop(self, operation_id: str, *default: Any) -> Any:
        value = super().pop(operation_id, *default)
        self._forget(operation_id)
        return value

    def _forget(self, operation_id: str) -> None:
        if operation_id in self._counted:
            self._counted.discard(operation_id)
            self._release()


class UserLimits:
    """Mixed into both handlers: counts the socket and its subscriptions against the user."""

    context: Context
    websocket: AsyncWebSocketAdapter
    view: Any
    _quota_user: str | None = None
    _connection_counted = False

    @property
    def quota(self) -> UserQuota:
        # A widget key's sockets count against the key, with limits of their own.
        widget = self.context.widget_grant is not None
        quota: UserQuota = self.view.widget_quota if widget else self.view.user_quota
        return quota

    def _holder(self) -> str | None:
        """Whom this socket counts against: its widget key, or its user."""
        if self.context.widget_grant is not None:
            return self.context.widget_grant.key_id
        principal = self.context.principal
        return principal.user_id if principal is not None else None

    async def admit_connection(self) -> bool:
        """Counts this socket for its user or widget key; closes it 4429 (False) past the
        limit. A widget key's socket is also listed, to be closed if the key is revoked."""
        holder = self._holder()
        if holder is None:  # on_ws_connect refuses these before we get here
            return True
        if not self.quota.open_connection(holder):
            reason = close_reason(self.quota.connections_refused_reason())
            await self.websocket.close(code=TOO_MANY, reason=reason)
            return False
        self._quota_user, self._connection_counted = holder, True
        if self.context.widget_grant is not None:
            self.view.widget_sockets.add(holder, self.websocket)
        return True

    def release_connection(self) -> None:
        if self._connection_counted and self._quota_user is not None:
            self.quota.close_connection(self._quota_user)
            self._connection_counted = False
            if self.context.widget_grant is not None:
                self.view.widget_sockets.remove(self._quota_user, self.websocket)

    def subscription_shape(self, payload: Any) -> OperationShape | None:
        """The shape of a subscribe message's operation if it is a subscription, else None."""
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return None
        name = payload.get("operationName")
        max_tokens: int = self.view.max_tokens
        shape = operation_shape(
            payload["query"], name if isinstance(name, str) else None, max_tokens
        )
        return shape if shape is not None and shape.kind is OperationType.SUBSCRIPTION else None

    def admit_subscription(self) -> bool:
        return self._quota_user is None or self.quota.start_subscription(self._quota_user)

    def end_subscription(self) -> None:
        if self._quota_user is not None:
            self.quota.end_subscription(self._quota_user)
