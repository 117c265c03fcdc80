"""Live trading feeds: order updates and throttled portfolio values."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable

from tradegraph.documents import Order
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import order_channel, portfolio_channel, quote_channel
from tradegraph.trading.valuation import PortfolioValue


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


async def _first(*sources: AsyncIterable[object]) -> None:
    """Waits for the next item of whichever source delivers first."""
    waits = [asyncio.ensure_future(anext(aiter(source))) for source in sources]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
