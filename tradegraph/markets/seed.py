"""Loads the demo universe: instruments, and a first quote at each reference price."""

from __future__ import annotations

from datetime import UTC, datetime

from tradegraph.decimals import round_to_step
from tradegraph.errors import AlreadyExists
from tradegraph.markets.instruments import InstrumentFields, Instruments
from tradegraph.markets.quotes import MarketData, Quote
from tradegraph.markets.universe import UNIVERSE


async def seed_universe(instruments: Instruments, market: MarketData) -> tuple[int, int]:
    """Adds the instruments that are missing; returns (created, already present). Safe to rerun."""
    created = present = 0
    for listing in UNIVERSE:
        exchange, currency, timezone, close = listing.venue
        try:
            await instruments.create(
                listing.symbol,
                InstrumentFields(
                    name=listing.name,
                    asset_class=listing.asset_class,
                    exchange=exchange,
                    currency=currency,
                    tick_size=listing.tick_size,
                    lot_size=listing.lot_size,
                    timezone=timezone,
                    session_close=close,
                ),
            )
            created += 1
        except AlreadyExists:
            present += 1
        if await market.latest(listing.symbol) is None:
            tick = listing.tick_size
            half = round_to_step(listing.reference_price * 2 / 10_000, tick, up=True)
            await market.ingest(
                Quote(
                    listing.symbol,
                    listing.reference_price - half,
                    listing.reference_price + half,
                    datetime.now(UTC),
                )
            )
    return created, present
