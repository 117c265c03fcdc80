"""Resolvers for instruments, quotes and candles, and their live feeds."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from tradegraph.schema.core.context import Info
from tradegraph.schema.markets import (
    AssetClass,
    Candle,
    CandleInterval,
    ImportCandlesInput,
    Instrument,
    InstrumentInput,
    InstrumentUpdateInput,
    MarketHistory,
    Quote,
    QuoteInput,
    scales_of,
)
from tradegraph.subscriptions import markets as live


async def instruments(
    info: Info, search: str | None = None, asset_class: AssetClass | None = None
) -> list[Instrument]:
    """Instruments by symbol; `search` matches part of the symbol or name, any case. With a
    widget key that lists symbols, only those."""
    found = await info.context.services.instruments.search(search, asset_class)
    grant = info.context.widget_grant
    covered = [i for i in found if grant is None or grant.allows_symbol(i.symbol)]
    return [Instrument.from_document(i) for i in covered]


async def market_history(info: Info) -> MarketHistory:
    """Whether this server is still loading price history (a demo's first run): until it
    ends, candles, indicators and day changes are partial."""
    return MarketHistory.from_status(info.context.services.market.history)


async def instrument(info: Info, symbol: str) -> Instrument | None:
    """One instrument; null when the symbol is unknown."""
    found = await info.context.loaders.instruments.load(symbol)
    return Instrument.from_document(found) if found else None


async def create_instrument(info: Info, input: InstrumentInput) -> Instrument:
    """Adds an instrument (ADMIN). A symbol that exists is CONFLICT."""
    created = await info.context.services.instruments.create(input.symbol, input.to_fields())
    return Instrument.from_document(created)


async def update_instrument(info: Info, symbol: str, input: InstrumentUpdateInput) -> Instrument:
    """Changes an instrument (ADMIN); the symbol itself cannot change. Unknown: NOT_FOUND."""
    updated = await info.context.services.instruments.update(symbol, input.to_fields())
    return Instrument.from_document(updated)


async def quote(info: Info, symbol: str) -> Quote | None:
    """The last quote of a symbol; null before the first. Unknown symbol: NOT_FOUND."""
    services = info.context.services
    await services.instruments.require(symbol)
    latest = await services.market.latest(symbol)
    return Quote.from_value(latest) if latest else None


async def quotes(info: Info, symbols: list[str]) -> list[Quote]:
    """The last quotes of 1 to 100 symbols, in the order asked; a symbol not quoted yet is
    left out. Unknown symbol: NOT_FOUND."""
    services = info.context.services
    names = await services.instruments.require_symbols(symbols)
    latest = await services.market.latest_many(names)
    return [Quote.from_value(latest[name]) for name in names if name in latest]


async def publish_quote(info: Info, input: QuoteInput) -> Quote:
    """Publishes a quote (ADMIN) through the path every feed uses: stored as a tick, made the
    last quote, sent to subscribers, matched against resting orders. bid > ask: BAD_USER_INPUT;
    unknown symbol: NOT_FOUND."""
    stored = await info.context.services.market.ingest(input.to_value(datetime.now(UTC)))
    return Quote.from_value(stored)


async def candles(
    info: Info,
    symbol: str,
    interval: CandleInterval,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
) -> list[Candle]:
    """Candles over [from, to), oldest first (default: the last day), built from ticks and
    merged with imported history (an imported candle wins for its bucket). Buckets without
    ticks are absent. At most 5,000 candles per request."""
    rows = await info.context.services.candles.history(symbol, interval, from_, to)
    scales = await scales_of(info, symbol)
    return [Candle.from_value(row, scales) for row in rows]


async def import_candles(info: Info, input: ImportCandlesInput) -> int:
    """Loads historical candles (ADMIN); returns how many were new or changed, so importing the
    same candles again returns 0. Every candle is checked first: one bad candle stores none."""
    rows = [candle.to_value() for candle in input.candles]
    return await info.context.services.candles.import_history(input.symbol, input.interval, rows)


async def quote_stream(info: Info, symbols: list[str]) -> AsyncGenerator[Quote, None]:
    """The latest known quote of each symbol first, then every new quote of these symbols. A
    client that reads slower than quotes arrive gets the newest quote per symbol (conflation),
    never a growing backlog. Unknown symbol: NOT_FOUND."""
    services = info.context.services
    names = await services.instruments.require_symbols(symbols)
    async for item in live.quotes(services.broker, names, services.market.latest_many):
        yield Quote.from_value(item)


async def candle_stream(
    info: Info, symbol: str, interval: CandleInterval
) -> AsyncGenerator[Candle, None]:
    """The forming candle of the current interval, after every quote; a new `start` means the
    previous candle closed."""
    found = await info.context.services.instruments.require(symbol, cached=False)
    scales = await scales_of(info, found.symbol)
    async for bar in live.forming_candles(info.context.services.broker, found.symbol, interval):
        yield Candle.from_value(bar, scales)
