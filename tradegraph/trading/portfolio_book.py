"""Live portfolio values from memory: one book per watched portfolio, shared by its watchers.

A portfolio's value moves with two things: its holdings (cash, positions, the day's fills),
which change only when it trades or moves cash, and the quotes of what it holds, which change
every second. So a `PortfolioBook` reads the holdings from the store once, and again only on
the portfolio's change hint; quotes only update the mids it keeps. The value is then a pure
computation (valuation.value_holdings, day_pnl.position_day: the same as for stored values),
done at most once per interval per portfolio however many sockets watch it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId

from tradegraph.documents import LedgerEntry, Portfolio, Position
from tradegraph.errors import NotFound
from tradegraph.markets.quotes import MarketData, Quote
from tradegraph.pubsub.channels import portfolio_channel, quote_channel
from tradegraph.trading.day_pnl import DayPnlService, fills_since
from tradegraph.trading.valuation import (
    PortfolioValue,
    asset_classes,
    value_holdings,
)

# Holdings are read again this often even without a hint: a step finished by recovery
# (trading/settlement.py) changes cash or positions without publishing one.
REREAD_SECONDS = 60.0


@dataclass(frozen=True)
class Holdings:
    """What the store says a portfolio holds: read on start and after each change hint."""

    portfolio: Portfolio
    positions: list[Position]  # every one, closed ones too, by symbol
    classes: dict[str, str]
    starts: dict[str, datetime]  # when each symbol's trading day began, at reading time
    fills: list[LedgerEntry]  # since those starts

    @property
    def symbols(self) -> list[str]:
        return [p.symbol for p in self.positions]


class PortfolioBook:
    """The live value of one portfolio, recomputed from memory and handed to every watcher."""

    def __init__(
        self, portfolio_id: PydanticObjectId, market: MarketData, day_pnl: DayPnlService
    ) -> None:
        self.portfolio_id = portfolio_id
        self.market = market
        self.day_pnl = day_pnl
        self.quotes: dict[str, Quote] = {}  # the newest of each followed symbol
        self.holdings: Holdings | None = None
        self.value: PortfolioValue | None = None
        self.version = 0
        self.watchers = 0
        self.failure: BaseException | None = None
        self._published = asyncio.Event()  # set (and replaced) at each new value
        self._woken = asyncio.Event()
        self._stale_holdings = False
        self._moved = False
        self.task: asyncio.Task[None] | None = None

    async def read_holdings(self) -> Holdings:
        portfolio = await Portfolio.get(self.portfolio_id)
        if portfolio is None:
            raise NotFound(f"portfolio {self.portfolio_id} not found")
        every = (
            await Position.find(Position.portfolio_id == self.portfolio_id).sort("symbol").to_list()
        )
        symbols = [p.symbol for p in every]
        starts = await self.day_pnl.day_starts(symbols, datetime.now(UTC))
        return Holdings(
            portfolio,
            every,
            await asset_classes(self.market.instruments, symbols),
            starts,
            await fills_since(self.portfolio_id, starts),
        )

    def take_quote(self, quote: Quote) -> list[Any]:
        """Broker callback for each followed symbol's quote: kept if newest, value marked stale."""
        known = self.quotes.get(quote.symbol)
        if known is None or quote.timestamp >= known.timestamp:
            self.quotes[quote.symbol] = quote
            self._moved = True
            self._woken.set()
        return []

    def take_hint(self, _message: object) -> list[Any]:
        """Broker callback for the portfolio's change hint: holdings are read again."""
        self._stale_holdings = True
        self._woken.set()
        return []

    async def compute(self) -> PortfolioValue:
        """The value of the holdings at the mids in memory, with its day P&L."""
        holdings = self.holdings
        assert holdings is not None
        now = datetime.now(UTC)
        mids: dict[str, Decimal] = {s: q.mid for s, q in self.quotes.items()}
        # as Portfolios.current_value: open positions valued, closed ones too for day P&L
        values = [
            value_holdings(
                str(self.portfolio_id),
                holdings.portfolio.cash,
                holdings.positions,
                mids,
                holdings.classes,
                include_closed,
                now,
            )
            for include_closed in (False, True)
        ]
        starts = await self.day_pnl.day_starts(holdings.symbols, now)
        day = await self.day_pnl.of_fills(values[1], starts, holdings.fills)
        return replace(values[0], day_pnl=day.total)

    def publish(self, value: PortfolioValue) -> None:
        self.value = value
        self.version += 1
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def refresh(self) -> None:
        """A value now, from the store if a change hint is pending (a watcher joined)."""
        if self._stale_holdings:
            self._stale_holdings = False
            self.holdings = await self.read_holdings()
            self._woken.set()  # the follower resubscribes if the symbols changed
        self._moved = False
        self.publish(await self.compute())

    async def follow(self, interval: float) -> None:
        """Reads, subscribes, then recomputes after hints and quotes, at most once per
        `interval`; a new set of symbols (a new position) is followed from then on."""
        broker = self.market.broker
        try:
            while True:
                own = portfolio_channel(str(self.portfolio_id))
                async with broker.subscribe(own, self.take_hint, conflate=bool) as hints:
                    self._stale_holdings = False
                    self.holdings = await self.read_holdings()
                    followed = self.holdings.symbols
                    channels = [quote_channel(s) for s in followed]  # none: no quotes
                    async with broker.subscribe(
                        channels, self.take_quote, conflate=bool, resumable=True
                    ):
                        # read after subscribing: a quote arriving in between is kept too
                        for quote in (await self.market.latest_many(followed)).values():
                            self.take_quote(quote)
                        interrupted = asyncio.ensure_future(_until_interrupted(hints))
                        interrupted.add_done_callback(lambda _: self._woken.set())
                        try:
                            await self._recompute(interval, followed, interrupted)
                        finally:
                            interrupted.cancel()
        except BaseException as error:
            self.failure = error
            self._published.set()
            raise

    async def _recompute(
        self, interval: float, followed: list[str], interrupted: asyncio.Future[None]
    ) -> None:
        """Recomputes after hints and quotes until the holdings name other symbols."""
        loop = asyncio.get_running_loop()
        last = -math.inf
        # spread over the minute: books opened together do not all read at the same moment
        reread_at = loop.time() + REREAD_SECONDS * (1 + random.random())
        while True:
            if interrupted.done():
                interrupted.result()  # StreamInterrupted ends the watchers
            assert self.holdings is not None
            if self.holdings.symbols != followed:
                return  # a new position (or a joiner's read found one): follow its quotes
            if loop.time() >= reread_at:
                self._stale_holdings = True  # changes made without a hint (recovery)
                reread_at = loop.time() + REREAD_SECONDS
            if self.version and not self._moved and not self._stale_holdings:
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(reread_at - loop.time()):
                        await self._woken.wait()
                continue
            pause = interval - (loop.time() - last)
            if pause > 0:
                await asyncio.sleep(pause)  # throttle, not synchronisation
            await self.refresh()
            last = loop.time()

    async def values(self, interval: float) -> AsyncIterator[PortfolioValue]:
        """The value now, then each new one, at most once per `interval` for this watcher;
        values computed during its pause fold into the newest."""
        loop = asyncio.get_running_loop()
        if self.value is not None and (self._stale_holdings or self._moved):
            await self.refresh()  # a joiner gets the value now, not the last throttled one
        seen = 0
        last = -math.inf
        while True:
            while self.version == seen:
                if self.failure is not None:
                    raise self.failure
                await self._published.wait()
            pause = interval - (loop.time() - last)
            if pause > 0:
                await asyncio.sleep(pause)  # throttle, not synchronisation
            if self.failure is not None:
                raise self.failure
            assert self.value is not None
            seen = self.version
            last = loop.time()
            yield self.value


async def _until_interrupted(source: AsyncIterable[Any]) -> None:
    """Iterates a callback-fed subscription: it yields nothing, but raises if interrupted."""
    async for _ in source:
        pass


def _seen(task: asyncio.Task[None]) -> None:
    """The watchers raise a book's failure; the task's own copy is not an unhandled error."""
    if not task.cancelled():
        task.exception()


class PortfolioBooks:
    """The books of the portfolios watched in this process, by id, while anyone watches."""

    def __init__(self, market: MarketData, day_pnl: DayPnlService) -> None:
        self.market = market
        self.day_pnl = day_pnl
        self._books: dict[PydanticObjectId, PortfolioBook] = {}

    def __len__(self) -> int:
        return len(self._books)

    async def watch(
        self, portfolio_id: PydanticObjectId, interval: float
    ) -> AsyncIterator[PortfolioValue]:
        """The portfolio's value now, then after each change of cash, positions or a held
        symbol's quote, at most once per `interval`."""
        book = self._books.get(portfolio_id)
        if book is None or book.failure is not None:
            book = PortfolioBook(portfolio_id, self.market, self.day_pnl)
            book.task = asyncio.create_task(book.follow(interval))
            book.task.add_done_callback(_seen)
            self._books[portfolio_id] = book
        book.watchers += 1
        try:
            async for value in book.values(interval):
                yield value
        finally:
            book.watchers -= 1
            if book.watchers == 0:
                if self._books.get(portfolio_id) is book:
                    del self._books[portfolio_id]
                if book.task is not None:
                    book.task.cancel()  # it leaves its broker subscriptions as it ends
