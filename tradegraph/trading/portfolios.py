"""Portfolios: who may see or change one, creation, deposits and withdrawals, valuation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from tradegraph.auth.principal import Principal
from tradegraph.decimals import ZERO, currency_places, plain, require_positive, step_places
from tradegraph.documents import CandleInterval, LedgerEntry, LedgerKind, Portfolio, Role
from tradegraph.documents.lookup import by_id, by_ids
from tradegraph.errors import InsufficientFunds, InvalidInput, NotFound, PermissionDenied
from tradegraph.markets.instruments import CURRENCY
from tradegraph.markets.quotes import MarketData
from tradegraph.pubsub.channels import portfolio_channel
from tradegraph.trading.day_pnl import DayPnl, DayPnlService
from tradegraph.trading.owner_caps import slot_for
from tradegraph.trading.performance import (
    EquityPoint,
    PerformanceResult,
    equity_history,
    performance,
)
from tradegraph.trading.portfolio_book import PortfolioBooks
from tradegraph.trading.settlement import apply_cash_entry
from tradegraph.trading.valuation import PortfolioValue, value_portfolio

MAX_PORTFOLIOS_PER_OWNER = 50
DEFAULT_MAX_CASH = Decimal(1_000_000_000)  # TRADEGRAPH_MAX_PORTFOLIO_CASH's default


def can_read(principal: Principal, owner_id: str) -> bool:
    """What a portfolio's owner holds (portfolios, orders): readable by the owner, ADMIN and
    ANALYST."""
    return principal.role in (Role.ADMIN, Role.ANALYST) or owner_id == principal.user_id


def check_can_change(principal: Principal, owner_id: str) -> None:
    """Trading and moving cash: the owner only. Staff read others' portfolios but never trade
    in them (a desk acting in a client's account by mistake is worse than asking the client).
    Call after can_read held."""
    if owner_id != principal.user_id:
        raise PermissionDenied(
            f"{principal.role.value} may read this portfolio but only its owner may change it"
        )


def readable(principal: Principal, portfolio_id: str, portfolio: Portfolio | None) -> Portfolio:
    """`portfolio` if the caller may read it; NOT_FOUND otherwise (its existence is private)."""
    if portfolio is None or not can_read(principal, portfolio.owner_id):
        raise NotFound(f"portfolio {portfolio_id} not found", portfolio_id=portfolio_id)
    return portfolio


async def readable_portfolio(principal: Principal, portfolio_id: str) -> Portfolio:
    """The stored portfolio if the caller may read it; NOT_FOUND otherwise."""
    return readable(principal, portfolio_id, await by_id(Portfolio, portfolio_id))


async def writable_portfolio(principal: Principal, portfolio_id: str) -> Portfolio:
    """The portfolio if the caller may trade or move cash in it: its owner only."""
    portfolio = await readable_portfolio(principal, portfolio_id)
    check_can_change(principal, portfolio.owner_id)
    return portfolio


class Portfolios:
    """Portfolio use cases: reading with visibility rules, creating, moving cash, valuing."""

    def __init__(
        self,
        market: MarketData,
        day_pnl: DayPnlService | None = None,
        max_cash: Decimal = DEFAULT_MAX_CASH,
    ) -> None:
        self.market = market
        self.day_pnl = day_pnl or DayPnlService(market.instruments)
        self.max_cash = max_cash  # the most paper cash a deposit may take a portfolio to
        self.books = PortfolioBooks(market, self.day_pnl)  # live values (portfolioValue)

    async def readable(self, principal: Principal, portfolio_id: str) -> Portfolio:
        return await readable_portfolio(principal, portfolio_id)

    async def by_ids(self, portfolio_ids: Sequence[str]) -> list[Portfolio | None]:
        """Portfolios in the order asked, None where unknown (for per-request DataLoaders)."""
        return await by_ids(Portfolio, portfolio_ids)

    async def visible_to(self, principal: Principal) -> list[Portfolio]:
        """Your portfolios; every portfolio for ADMIN and ANALYST."""
        if principal.role in (Role.ADMIN, Role.ANALYST):
            query = Portfolio.find_all()
        else:
            query = Portfolio.find(Portfolio.owner_id == principal.user_id)
        return await query.sort("created_at", "_id").to_list()

    async def create(self, principal: Principal, name: str, base_currency: str) -> Portfolio:
        return await create_portfolio(principal, name, base_currency)

    async def deposit(self, principal: Principal, portfolio_id: str, amount: Decimal) -> Portfolio:
        return await self._cash_moved(
            await move_cash(
                principal, portfolio_id, amount, LedgerKind.DEPOSIT, cash_cap=self.max_cash
            )
        )

    async def withdraw(self, principal: Principal, portfolio_id: str, amount: Decimal) -> Portfolio:
        return await self._cash_moved(
            await move_cash(principal, portfolio_id, amount, LedgerKind.WITHDRAWAL)
        )

    async def _cash_moved(self, portfolio: Portfolio) -> Portfolio:
        """Live values hold cash in memory: they read it again on this hint."""
        await self.market.broker.publish(portfolio_channel(str(portfolio.id)), "{}")
        return portfolio

    async def value(self, portfolio: Portfolio, include_closed: bool = False) -> PortfolioValue:
        return await value_portfolio(portfolio, self.market, include_closed)

    async def current_value(self, portfolio: Portfolio) -> PortfolioValue:
        """The value from a fresh read of the portfolio, with its day P&L (for live updates)."""
        fresh = await Portfolio.get(portfolio.id) or portfolio
        value = await self.value(fresh)
        day = await self.day(await self.value(fresh, include_closed=True))
        return replace(value, day_pnl=day.total)

    async def day(self, value: PortfolioValue) -> DayPnl:
        """Day P&L of a valuation that includes closed positions."""
        return await self.day_pnl.of(value)

    async def history(
        self,
        portfolio: Portfolio,
        from_: datetime | None,
        to: datetime | None,
        interval: CandleInterval,
    ) -> list[EquityPoint]:
        return await equity_history(portfolio, from_, to, interval)

    async def performance(
        self,
        portfolio: Portfolio,
        from_: datetime | None,
        to: datetime | None,
        interval: CandleInterval,
    ) -> PerformanceResult:
        return await performance(portfolio, from_, to, interval)


async def create_portfolio(principal: Principal, name: str, base_currency: str) -> Portfolio:
    if principal.role is Role.ANALYST:
        raise PermissionDenied("ANALYSTs read portfolios; TRADERs and ADMINs create them")
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise InvalidInput("name must be 1 to 100 characters", field="name")
    currency = base_currency.strip().upper()
    if not CURRENCY.match(currency):
        raise InvalidInput(
            "baseCurrency must be a code such as BRL, USD or USDT", field="baseCurrency"
        )
    owner = principal.user_id
    stored = Portfolio.find(Portfolio.owner_id == owner).count
    async with slot_for("portfolios", owner, MAX_PORTFOLIOS_PER_OWNER, stored):
        portfolio = Portfolio(
            owner_id=owner,
            name=name,
            base_currency=currency,
            cash=ZERO,
            available=ZERO,
            created_at=datetime.now(UTC),
        )
        await portfolio.insert()
    return portfolio


def _over_cap(portfolio: Portfolio, cap: Decimal) -> InvalidInput:
    return InvalidInput(
        f"a deposit may not take a portfolio's cash above {plain(cap)} "
        f"{portfolio.base_currency} (the cap on paper cash, TRADEGRAPH_MAX_PORTFOLIO_CASH): it "
        f"holds {plain(portfolio.cash)}, so at most {plain(max(cap - portfolio.cash, ZERO))} "
        "more may be deposited",
        field="amount",
    )


async def move_cash(
    principal: Principal,
    portfolio_id: str,
    amount: Decimal,
    kind: LedgerKind,
    cash_cap: Decimal | None = None,
) -> Portfolio:
    """Deposit (kind DEPOSIT) or withdraw a positive amount; journaled in the ledger first. A
    deposit past `cash_cap` is refused, checked atomically with the deposit itself."""
    require_positive(amount, "amount")
    portfolio = await writable_portfolio(principal, portfolio_id)
    if cash_cap is not None and kind is LedgerKind.DEPOSIT and portfolio.cash + amount > cash_cap:
        raise _over_cap(portfolio, cash_cap)  # before anything is written
    places = currency_places(portfolio.base_currency)
    if step_places(amount) > places:  # cash is shown at the currency's scale: keep it exact
        raise InvalidInput(
            f"amount has more than {places} decimal places, the most "
            f"{portfolio.base_currency} cash has",
            field="amount",
        )
    signed = amount if kind is LedgerKind.DEPOSIT else -amount
    entry = LedgerEntry(
        id=f"cash:{uuid.uuid4().hex}",
        portfolio_id=portfolio.id,
        kind=kind,
        amount=signed,
        timestamp=datetime.now(UTC),
    )
    await entry.insert()
    deposit_cap = cash_cap if kind is LedgerKind.DEPOSIT else None
    if not await apply_cash_entry(entry, deposit_cap):
        fresh = await Portfolio.get(portfolio.id)
        if deposit_cap is not None:  # a concurrent deposit got there first
            raise _over_cap(fresh or portfolio, deposit_cap)
        available = fresh.available if fresh else ZERO
        raise InsufficientFunds(
            f"cannot withdraw {plain(amount)} {portfolio.base_currency}: {plain(available)} is "
            "available (cash not reserved by open BUY orders)",
            available=plain(available),
        )
    refreshed = await Portfolio.get(portfolio.id)
    assert refreshed is not None
    return refreshed
