"""Per-request state: services, the caller, why a presented token was refused, and the
request's DataLoaders. Resolvers take `info: Info` so the context is typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension

from tradegraph.auth.principal import Principal
from tradegraph.auth.tokens import bearer_token, read_bearer
from tradegraph.documents import Instrument, Portfolio, User
from tradegraph.errors import NotAuthenticated
from tradegraph.services import Services
from tradegraph.trading.portfolios import readable


class Loaders:
    """Batched lookups for one request: a list asking per item costs one query per kind."""

    def __init__(self, services: Services) -> None:
        self.users = DataLoader[str, User | None](load_fn=services.accounts.users_by_ids)
        self.portfolios = DataLoader[str, Portfolio | None](load_fn=services.portfolios.by_ids)
        self.instruments = DataLoader[str, Instrument | None](
            load_fn=services.instruments.by_symbols
        )


class Context:
    def __init__(self, services: Services, request: Any, response: Any) -> None:
        self.services = services
        self.request = request
        self.response = response
        self.connection_params: dict[str, Any] | None = None
        self.principal: Principal | None = None
        self.token_refused = False
        self.loaders = Loaders(services)

    def authenticate(self, authorization: Any) -> Principal | None:
        """Reads `Authorization: Bearer …`; remembers a refused token for the error message."""
        if bearer_token(authorization) is None:
            self.token_refused = authorization is not None
            return None
        self.principal = read_bearer(authorization, self.services.settings.effective_jwt_secret)
        self.token_refused = self.principal is None
        return self.principal

    def require_principal(self) -> Principal:
        if self.principal is not None:
            return self.principal
        if self.token_refused:
            raise NotAuthenticated(
                "access token is invalid or expired; log in or refresh it (refreshToken)"
            )
        raise NotAuthenticated("authentication required: send Authorization: Bearer <accessToken>")

    async def readable_portfolio(self, portfolio_id: str) -> Portfolio:
        """The portfolio if the caller may read it (NOT_FOUND otherwise), loaded once per
        request however many fields ask for it."""
        principal = self.require_principal()
        return readable(principal, portfolio_id, await self.loaders.portfolios.load(portfolio_id))


class FreshLoaders(SchemaExtension):
    """Loaders cache for one operation only: a WebSocket keeps one context for all of its
    operations, and a subscription's later messages must not see a stale cache."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders = Loaders(context.services)
        yield


Info = strawberry.Info[Context, None]
