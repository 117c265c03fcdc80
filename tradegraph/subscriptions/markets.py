"""Live market and portfolio feeds: conflated quotes, forming candles, order updates and
throttled portfolio values."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

from tradegraph.documents import CandleInterval, Order
from tradegraph.markets.candles import Candle, bucket_start, candles
from tradegraph.markets.quotes import Quote
from tradegraph.subscriptions.broker import Broker
from tradegraph.subscriptions.channels import order_channel, portfolio_channel, quote_channel
from tradegraph.trading.valuation import PortfolioValue


async def quotes(broker: Broker, symbols: list[str]) -> AsyncIterator[Quote]:
    """Every new quote of `symbols`; a slow reader gets the newest per symbol, never a backlog."""
    channels = [quote_channel(s) for s in symbols]
    async with broker.subscribe(channels, lambda q: [q], conflate=lambda q: q.symbol) as live:
        async for quote in live:
            yield quote


async def forming_candles(
    broker: Broker, symbol: str, interval: CandleInterval
) -> AsyncIterator[Candle]:
    """The current bar after each quote: starts from the stored bar, rolls over at the edge."""
    async with broker.subscribe(
        quote_channel(symbol), lambda q: [q], conflate=lambda q: q.symbol
    ) as live:
        current: Candle | None = None
        async for quote in live:
            start = bucket_start(quote.timestamp, interval)
            if current is None or current.start != start:
                # The bar so far, from ticks before this quote (its own tick is at its time).
                stored = await candles(symbol, interval, start, quote.timestamp)
                if stored and stored[-1].start == start:
                    current = stored[-1].with_quote(quote)
                else:
                    mid = quote.mid
                    current = Candle(start, mid, mid, mid, mid, quote.volume or Decimal(0))
            else:
                current = current.with_quote(quote)
            yield current


async def order_updates(broker: Broker, portfolio_id: str) -> AsyncIterator[Order]:
    async with broker.subscribe(order_channel(portfolio_id), lambda order: [order]) as live:
        async for order in live:
            yield order


async def portfolio_values(
    broker: Broker,
    portfolio_id: str,
    value: Callable[[], Awaitable[PortfolioValue]],
    min_interval: float,
) -> AsyncIterator[PortfolioValue]:
    """The value now, then again after cash, positions or a held symbol's quote change, at most
    once per `min_interval` seconds; changes during the pause fold into the next value."""
    loop = asyncio.get_running_loop()
    last_sent = -math.inf

    def symbols(current: PortfolioValue) -> list[str]:
        return sorted(p.symbol for p in current.positions)

    while True:
        own = portfolio_channel(portfolio_id)
        async with broker.subscribe(own, _signal, conflate=bool) as changed:
            held = symbols(await value())
            channels = [quote_channel(s) for s in held] or [own]
            async with broker.subscribe(channels, _signal, conflate=bool) as moved:
                current = await value()  # read after subscribing: no change falls in between
                while True:
                    pause = min_interval - (loop.time() - last_sent)
                    if pause > 0:
                        await asyncio.sleep(pause)  # throttle, not synchronisation
                        current = await value()
                    last_sent = loop.time()
                    yield current
                    await _first(changed, moved)
                    current = await value()
                    if symbols(current) != held:
                        break  # follow the new set of held symbols


def _signal(_message: object) -> list[bool]:
    return [True]


async def _first(*sources: AsyncIterator[object]) -> None:
    """Waits for the next item of whichever source delivers first."""
    waits = [asyncio.ensure_future(anext(aiter(source))) for source in sources]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
