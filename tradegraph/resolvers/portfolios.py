"""Resolvers for portfolios: reading, creating, moving cash, and the live value."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal

from strawberry import ID

from tradegraph.auth.export_links import ExportLinks
from tradegraph.decimals import currency_places
from tradegraph.schema.core.context import Info
from tradegraph.schema.portfolios import (
    CreatePortfolioInput,
    ExportKind,
    Portfolio,
    PortfolioValue,
)
from tradegraph.subscriptions.portfolios import portfolio_values


async def portfolio(info: Info, id: ID) -> Portfolio:
    """One portfolio. TRADERs see their own; ADMIN and ANALYST see all; otherwise NOT_FOUND."""
    return Portfolio.from_document(await info.context.readable_portfolio(str(id)))


async def portfolios(info: Info) -> list[Portfolio]:
    """Your portfolios, oldest first; every portfolio for ADMIN and ANALYST."""
    found = await info.context.services.portfolios.visible_to(info.context.require_principal())
    return [Portfolio.from_document(p) for p in found]


def _own_address(info: Info) -> str:
    """Where links point: TRADEGRAPH_PUBLIC_URL when set; else the request's own scheme and
    Host, but only if that Host names the socket the request arrived on (a forged Host must
    not put someone else's site into a link carrying a token); else "" (a relative link)."""
    public_url = info.context.services.settings.public_url
    if public_url:
        return public_url.rstrip("/")
    request = info.context.request
    server, host = request.scope.get("server"), request.headers.get("host", "")
    if not server or not host:
        return ""
    address, port = server[0], server[1]
    names = {address, "localhost"} if address in LOOPBACK else {address}
    shown = {f"[{n}]" if ":" in n else n for n in names}
    if host.lower() in {f"{name}:{port}" for name in shown} | (
        shown if port in (80, 443) else set()
    ):
        return f"{request.url.scheme}://{host.lower()}"
    return ""


LOOPBACK = frozenset({"127.0.0.1", "::1"})


async def export_url(info: Info, portfolio_id: ID, kind: ExportKind) -> str:
    """A link that downloads the portfolio's positions or orders as CSV with no Authorization
    header: it carries a signed token for you and that file, valid for 60 s
    (TRADEGRAPH_EXPORT_LINK_SECONDS). Absolute on TRADEGRAPH_PUBLIC_URL when set, or on the
    address the request reached; relative to this server when that address cannot be
    confirmed. Same visibility as `portfolio`."""
    found = await info.context.readable_portfolio(str(portfolio_id))
    principal = info.context.require_principal()
    links = ExportLinks.from_settings(info.context.services.settings)
    token = links.issue(principal.user_id, str(found.id), kind.value)
    base = _own_address(info)
    return f"{base}/exports/portfolios/{found.id}/{kind.value}.csv?token={token}"


async def create_portfolio(info: Info, input: CreatePortfolioInput) -> Portfolio:
    """A new empty portfolio owned by you (TRADER or ADMIN; ANALYST: FORBIDDEN)."""
    created = await info.context.services.portfolios.create(
        info.context.require_principal(), input.name, input.base_currency
    )
    return Portfolio.from_document(created)


async def deposit(info: Info, portfolio_id: ID, amount: Decimal) -> Portfolio:
    """Adds cash. amount ≤ 0: BAD_USER_INPUT. The owner only (staff: FORBIDDEN)."""
    updated = await info.context.services.portfolios.deposit(
        info.context.require_principal(), str(portfolio_id), amount
    )
    return Portfolio.from_document(updated)


async def withdraw(info: Info, portfolio_id: ID, amount: Decimal) -> Portfolio:
    """Takes cash out. amount ≤ 0: BAD_USER_INPUT; more than the available cash (cash not
    reserved by open BUY orders): INSUFFICIENT_FUNDS. The owner only (staff: FORBIDDEN)."""
    updated = await info.context.services.portfolios.withdraw(
        info.context.require_principal(), str(portfolio_id), amount
    )
    return Portfolio.from_document(updated)


async def portfolio_value(info: Info, portfolio_id: ID) -> AsyncGenerator[PortfolioValue, None]:
    """Cash, equity and unrealized P&L now, then whenever cash, positions or a held symbol's
    price change, at most once a second. Same visibility as `portfolio`."""
    services = info.context.services
    found = await info.context.readable_portfolio(str(portfolio_id))
    interval = services.settings.portfolio_value_interval_seconds
    assert found.id is not None  # stored
    async for value in portfolio_values(services.portfolios.books, found.id, interval):
        yield PortfolioValue.from_value(value, currency_places(found.base_currency))
