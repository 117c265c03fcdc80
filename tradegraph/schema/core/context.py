"""Per-request state: services, the caller, why a presented token was refused, and the
request's DataLoaders. Resolvers take `info: Info` so the context is typed.

Two steps make the caller: `authenticate` verifies the token (signature, expiry; no I/O), and
`resolve_principal` (awaited before every operation executes, see schema/core/stored_principal.py)
looks its user up in the store, so `principal` carries the stored role and a deleted account
has none. Until that step has run, `principal` is None: forgetting it fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension

from tradegraph.analytics.optimization import StoredRows
from tradegraph.analytics.optimization_runs import rows_of
from tradegraph.auth.principal import Principal
from tradegraph.auth.tokens import AccessToken, bearer_token, decode_access_token
from tradegraph.documents import Instrument, Portfolio, User
from tradegraph.errors import NotAuthenticated, PermissionDenied
from tradegraph.services import Services
from tradegraph.trading.portfolios import readable
from tradegraph.widgets.grants import READ_ONLY, WidgetGrant

AUTHENTICATION_REQUIRED = "authentication required: send Authorization: Bearer <accessToken>"
TOKEN_REFUSED = "access token is invalid or expired; log in or refresh it (refreshToken)"
ACCOUNT_GONE = "the account of this access token no longer exists; log in again"


class Loaders:
    """Batched lookups for one request: a list asking per item costs one query per kind."""

    def __init__(self, services: Services) -> None:
        self.users = DataLoader[str, User | None](load_fn=services.accounts.users_by_ids)
        self.portfolios = DataLoader[str, Portfolio | None](load_fn=services.portfolios.by_ids)
        self.instruments = DataLoader[str, Instrument | None](
            load_fn=services.instruments.by_symbols
        )
        # read once per operation however many aliases of top/heatmap ask
        self.optimization_rows = DataLoader[str, StoredRows](load_fn=rows_of)


class Context:
    def __init__(self, services: Services, request: Any, response: Any) -> None:
        self.services = services
        self.request = request
        self.response = response
        self.connection_params: dict[str, Any] | None = None
        self.access_token: AccessToken | None = None  # verified, not yet looked up
        self.principal: Principal | None = None  # the caller as stored, once resolved
        self.refusal: str | None = None  # why a presented token gives no principal
        self.widget_grant: WidgetGrant | None = None  # a widget key's caller: market data only
        self._loaders: Loaders | None = None  # made on first use: most sockets never need them

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.services)
        return self._loaders

    @loaders.setter
    def loaders(self, loaders: Loaders | None) -> None:
        self._loaders = loaders

    def authenticate(self, authorization: Any) -> AccessToken | None:
        """Verifies `Authorization: Bearer …`; remembers a refused token for the error message."""
        token = bearer_token(authorization)
        secret = self.services.settings.effective_jwt_secret
        return self.accept(authorization, decode_access_token(token, secret) if token else None)

    def accept(self, authorization: Any, verified: AccessToken | None) -> AccessToken | None:
        """`authenticate` with `authorization` verified already (`verified`: None if refused)."""
        self.principal = None
        self.access_token = verified
        presented = authorization is not None
        self.refusal = TOKEN_REFUSED if presented and verified is None else None
        return verified

    async def resolve_principal(self) -> Principal | None:
        """The token's user as the store has it now (cached a few seconds): its current role;
        None when there is no valid token, it has expired or the account is gone."""
        token = self.access_token
        if token is None:
            self.principal = None
        elif token.expired():
            self.principal, self.refusal = None, TOKEN_REFUSED
        else:
            user_id = token.principal.user_id
            self.principal = await self.services.accounts.current_principal(user_id)
            self.refusal = None if self.principal else ACCOUNT_GONE
        return self.principal

    def require_principal(self, field: str = "this field") -> Principal:
        if self.principal is not None:
            return self.principal
        if self.widget_grant is not None:
            raise PermissionDenied(READ_ONLY.format(field=field))
        raise NotAuthenticated(self.refusal or AUTHENTICATION_REQUIRED)

    async def readable_portfolio(self, portfolio_id: str) -> Portfolio:
        """The portfolio if the caller may read it (NOT_FOUND otherwise), loaded once per
        operation however many fields ask for it."""
        principal = self.require_principal()
        return readable(principal, portfolio_id, await self.loaders.portfolios.load(portfolio_id))


class FreshLoaders(SchemaExtension):
    """Loaders cache for one operation only: a WebSocket keeps one context for all of its
    operations, and a subscription's later messages must not see a stale cache."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders = None  # a new set on first use in this operation
        yield


Info = strawberry.Info[Context, None]
