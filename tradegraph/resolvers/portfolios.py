"""Resolvers for portfolios: reading, creating, moving cash, and the live value."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal

from strawberry import ID, Info

from tradegraph.documents import LedgerKind
from tradegraph.documents import Portfolio as PortfolioDocument
from tradegraph.schema.portfolios import CreatePortfolioInput, Portfolio, PortfolioValue
from tradegraph.services import Services
from tradegraph.subscriptions.markets import portfolio_values
from tradegraph.trading import portfolios as rules
from tradegraph.trading.valuation import PortfolioValue as PortfolioValueData
from tradegraph.trading.valuation import value_portfolio


def to_graphql(portfolio: PortfolioDocument, services: Services) -> Portfolio:
    """The GraphQL view; valuations run once per request and portfolio, when first asked for."""
    cache: dict[bool, PortfolioValueData] = {}

    async def valuation(include_closed: bool) -> PortfolioValueData:
        if include_closed not in cache:
            cache[include_closed] = await value_portfolio(
                portfolio, services.market, include_closed
            )
        return cache[include_closed]

    return Portfolio(
        id=ID(str(portfolio.id)),
        name=portfolio.name,
        base_currency=portfolio.base_currency,
        cash=portfolio.cash,
        available_cash=portfolio.available,
        created_at=portfolio.created_at,
        _document=portfolio,
        _valuation=valuation,
    )


async def portfolio(info: Info, id: ID) -> Portfolio:
    """One portfolio. TRADERs see their own; ADMIN and ANALYST see all; otherwise NOT_FOUND."""
    found = await rules.readable_portfolio(info.context.require_principal(), str(id))
    return to_graphql(found, info.context.services)


async def portfolios(info: Info) -> list[Portfolio]:
    """Your portfolios, oldest first; every portfolio for ADMIN and ANALYST."""
    found = await rules.list_portfolios(info.context.require_principal())
    return [to_graphql(p, info.context.services) for p in found]


async def create_portfolio(info: Info, input: CreatePortfolioInput) -> Portfolio:
    """A new empty portfolio owned by you (TRADER or ADMIN; ANALYST: FORBIDDEN)."""
    created = await rules.create_portfolio(
        info.context.require_principal(), input.name, input.base_currency
    )
    return to_graphql(created, info.context.services)


async def deposit(info: Info, portfolio_id: ID, amount: Decimal) -> Portfolio:
    """Adds cash. amount ≤ 0: BAD_USER_INPUT. Owner or ADMIN only."""
    updated = await rules.move_cash(
        info.context.require_principal(), str(portfolio_id), amount, LedgerKind.DEPOSIT
    )
    return to_graphql(updated, info.context.services)


async def withdraw(info: Info, portfolio_id: ID, amount: Decimal) -> Portfolio:
    """Takes cash out. amount ≤ 0: BAD_USER_INPUT; more than the available cash (cash not
    reserved by open BUY orders): INSUFFICIENT_FUNDS. Owner or ADMIN only."""
    updated = await rules.move_cash(
        info.context.require_principal(), str(portfolio_id), amount, LedgerKind.WITHDRAWAL
    )
    return to_graphql(updated, info.context.services)


async def portfolio_value(info: Info, portfolio_id: ID) -> AsyncGenerator[PortfolioValue, None]:
    """Cash, equity and unrealized P&L now, then whenever cash, positions or a held symbol's
    price change, at most once a second. Same visibility as `portfolio`."""
    principal = info.context.require_principal()
    services: Services = info.context.services
    found = await rules.readable_portfolio(principal, str(portfolio_id))

    async def current() -> PortfolioValueData:
        fresh = await PortfolioDocument.get(found.id)
        return await value_portfolio(fresh or found, services.market)

    interval = services.settings.portfolio_value_interval_seconds
    async for value in portfolio_values(services.broker, str(found.id), current, interval):
        yield PortfolioValue.from_value(value)
