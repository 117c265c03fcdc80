"""Simulated quotes: geometric Brownian motion per instrument, reproducible with a seed."""

from __future__ import annotations

import asyncio
import math
import random
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import structlog

from tradegraph.decimals import round_to_step
from tradegraph.documents import AssetClass, Instrument
from tradegraph.markets.quotes import MarketData, Quote
from tradegraph.markets.universe import REFERENCE_PRICES
from tradegraph.pubsub.failures import RepeatedFailure

log = structlog.get_logger(__name__)

SECONDS_PER_YEAR = 365 * 24 * 3600
HALF_SPREAD = 0.0002  # 2 bps each side, at least one tick
# Notional resting at the touch, by asset class, in the instrument's currency: about what a
# liquid name shows on its venue (a few BTC on Binance, a few hundred AAPL on Nasdaq), so a
# retail-sized market order fills at once. Each quote draws 0.5x to 2x of it per side.
TOP_OF_BOOK_NOTIONAL = {
    AssetClass.CRYPTO: 400_000.0,
    AssetClass.STOCK: 150_000.0,
    AssetClass.ETF: 300_000.0,
    AssetClass.REIT: 60_000.0,
    AssetClass.FX: 1_000_000.0,
    AssetClass.BOND: 100_000.0,
}
DEFAULT_TOP_OF_BOOK_NOTIONAL = 100_000.0
BOOK_LEVELS = 10  # price levels beyond the touch a market order may walk, each as deep
CATALOGUE_REFRESH_SECONDS = 10.0
DEFAULT_START = Decimal(100)


class PricePath:
    """One instrument's GBM: S' = S * exp((drift - vol^2 / 2) * dt + vol * sqrt(dt) * Z)."""

    def __init__(
        self,
        instrument: Instrument,
        start: Decimal,
        drift: float,
        volatility: float,
        dt: float,
        seed: int | None,
    ) -> None:
        self.instrument = instrument
        self.price = float(start)
        # Per-symbol stream: adding an instrument does not change the others' paths.
        base = seed if seed is not None else random.SystemRandom().getrandbits(32)
        self.random = random.Random(base ^ zlib.crc32(instrument.symbol.encode()))
        self.step = (drift - volatility**2 / 2) * dt
        self.scale = volatility * math.sqrt(dt)

    def next_quote(self, now: datetime) -> Quote:
        self.price *= math.exp(self.step + self.scale * self.random.gauss())
        tick, lot = self.instrument.tick_size, self.instrument.lot_size
        half = max(Decimal(repr(self.price * HALF_SPREAD)), tick)
        mid = Decimal(repr(self.price))
        bid = max(round_to_step(mid - half, tick, up=False), tick)
        ask = max(round_to_step(mid + half, tick, up=True), bid + tick)
        return Quote(
            self.instrument.symbol,
            bid,
            ask,
            now,
            bid_size=lot * self._lots(),
            ask_size=lot * self._lots(),
            volume=lot * max(1, self._lots() // 20),  # traded since the last quote: a slice
            levels=BOOK_LEVELS,
        )

    def _lots(self) -> int:
        """A top-of-book size in lots: the class's notional at this price, 0.5x to 2x."""
        notional = TOP_OF_BOOK_NOTIONAL.get(
            self.instrument.asset_class, DEFAULT_TOP_OF_BOOK_NOTIONAL
        )
        lot_value = self.price * float(self.instrument.lot_size)
        return max(1, round(notional * 2 ** self.random.uniform(-1, 1) / lot_value))


class SimulatedFeed:
    def __init__(
        self,
        market: MarketData,
        drift: float,
        volatility: float,
        tick_seconds: float,
        seed: int | None,
    ) -> None:
        self.market = market
        self.drift = drift
        self.volatility = volatility
        self.tick_seconds = tick_seconds
        self.seed = seed
        self.paths: dict[str, PricePath] = {}
        self._changed = asyncio.Event()
        self.failures: dict[str, RepeatedFailure] = {}
        self.description = (
            f"simulated GBM (drift {drift}, volatility {volatility}, a quote per "
            f"instrument every {tick_seconds}s, seed {seed})"
        )

    def _failures(self, symbol: str) -> RepeatedFailure:
        if symbol not in self.failures:
            self.failures[symbol] = RepeatedFailure("simulated quote refused", log)
        return self.failures[symbol]

    def catalogue_changed(self, instrument: Instrument) -> None:
        """Called when an instrument is created: the feed prices it without waiting."""
        self._changed.set()

    async def _refresh(self) -> list[PricePath]:
        """Reads the catalogue; returns the paths of instruments new to the feed."""
        dt = self.tick_seconds / SECONDS_PER_YEAR
        added = []
        for instrument in await Instrument.find_all().to_list():
            if instrument.symbol in self.paths:
                self.paths[instrument.symbol].instrument = instrument
                continue
            last = await self.market.latest(instrument.symbol)
            start = last.mid if last else REFERENCE_PRICES.get(instrument.symbol, DEFAULT_START)
            self.paths[instrument.symbol] = PricePath(
                instrument, start, self.drift, self.volatility, dt, self.seed
            )
            added.append(self.paths[instrument.symbol])
        return added

    async def _quote(self, paths: list[PricePath]) -> None:
        """One quote per path, drawn in order (the seed decides every price), stored and
        published concurrently: each symbol's store writes queue in the store thread while
        the loop delivers the quotes already stored, so the last symbol of a tick does not
        wait for every other symbol's round trips first."""
        now = datetime.now(UTC)
        quotes = [path.next_quote(now) for path in paths]
        await asyncio.gather(*(self._ingest(quote) for quote in quotes))

    async def _ingest(self, quote: Quote) -> None:
        try:
            await self.market.ingest(quote)
        except Exception as error:  # logged once per symbol and failure, then counted
            self._failures(quote.symbol).failed(error, symbol=quote.symbol)
        else:
            self._failures(quote.symbol).recovered(symbol=quote.symbol)

    async def _wait_tick(self, deadline: float) -> None:
        """Sleeps until `deadline` (the tick clock), pricing instruments created meanwhile."""
        loop = asyncio.get_running_loop()
        while (left := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return
            self._changed.clear()
            await self._quote(await self._refresh())

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        refreshed = -math.inf
        while True:
            if loop.time() - refreshed >= CATALOGUE_REFRESH_SECONDS:
                refreshed = loop.time()
                self._changed.clear()
                await self._refresh()
            await self._quote(list(self.paths.values()))
            await self._wait_tick(loop.time() + self.tick_seconds)
