"""The MarketDataFeed interface and the choice of feed (TRADEGRAPH_MARKET_FEED)."""

from __future__ import annotations

from typing import Protocol

from tradegraph.config import MarketFeed, Settings
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData


class MarketDataFeed(Protocol):
    """Produces quotes until cancelled, handing each to MarketData.ingest."""

    description: str

    async def run(self) -> None: ...


def market_feed(
    settings: Settings, market: MarketData, instruments: Instruments
) -> MarketDataFeed | None:
    if settings.market_feed is MarketFeed.SIMULATED:
        from tradegraph.markets.simulated import SimulatedFeed

        feed = SimulatedFeed(
            market,
            drift=settings.simulated_drift,
            volatility=settings.simulated_volatility,
            tick_seconds=settings.simulated_tick_seconds,
            seed=settings.simulated_seed,
        )
        instruments.on_created(feed.catalogue_changed)  # a new instrument is priced at once
        return feed
    if settings.market_feed is MarketFeed.BINANCE:
        from tradegraph.markets.binance import BinanceFeed

        symbols = [s.strip().upper() for s in settings.binance_symbols.split(",") if s.strip()]
        return BinanceFeed(market, settings.binance_url, symbols)
    return None
