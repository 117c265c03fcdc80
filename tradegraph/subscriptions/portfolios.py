"""A portfolio's live value, throttled, from its in-memory book."""

from __future__ import annotations

from collections.abc import AsyncIterator

from beanie import PydanticObjectId

from tradegraph.trading.portfolio_book import PortfolioBooks
from tradegraph.trading.valuation import PortfolioValue


async def portfolio_values(
    books: PortfolioBooks, portfolio_id: PydanticObjectId, min_interval: float
) -> AsyncIterator[PortfolioValue]:
    """The value now, then again after cash, positions or a held symbol's quote change, at most
    once per `min_interval` seconds; changes during the pause fold into the next value. Every
    watcher of a portfolio shares one in-memory book (trading/portfolio_book.py)."""
    async for value in books.watch(portfolio_id, min_interval):
        yield value
