"""Live market feeds: conflated quotes and forming candles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from tradegraph.documents import CandleInterval
from tradegraph.markets.candles import Candle, bucket_start, candles
from tradegraph.markets.quotes import Quote
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import quote_channel

_INSTANT = timedelta(microseconds=1)


async def quotes(
    broker: Broker,
    symbols: list[str],
    snapshot: Callable[[list[str]], Awaitable[dict[str, Quote]]] | None = None,
) -> AsyncIterator[Quote]:
    """The latest known quote of each symbol (from `snapshot`), then every new one; a slow
    reader gets the newest per symbol, never a backlog."""
    channels = [quote_channel(s) for s in symbols]
    # resumable: after a broker outage the next quote supersedes whatever was missed
    async with broker.subscribe(
        channels, lambda q: [q], conflate=lambda q: q.symbol, resumable=True
    ) as live:
        # Read after subscribing: a quote arriving in between is in `live`, not lost.
        sent: dict[str, datetime] = {}
        latest = await snapshot(symbols) if snapshot is not None else {}
        for symbol in symbols:
            if symbol in latest:
                sent[symbol] = latest[symbol].timestamp
                live.last_key = symbol  # as the live items are keyed: a sharer keeps it per symbol
                yield latest[symbol]
        async for quote in live:
            if quote.timestamp <= sent.get(quote.symbol, quote.timestamp - _INSTANT):
                continue  # already sent in the snapshot
            yield quote


async def forming_candles(
    broker: Broker, symbol: str, interval: CandleInterval
) -> AsyncIterator[Candle]:
    """The current bar after each quote: starts from the stored bar, rolls over at the edge."""
    async with broker.subscribe(
        quote_channel(symbol), lambda q: [q], conflate=lambda q: q.symbol
    ) as live:
        current: Candle | None = None
        step = timedelta(seconds=interval.seconds)
        async for quote in live:
            start = bucket_start(quote.timestamp, interval)
            if current is None or current.start != start:
                # The stored bar already holds this quote: ingest writes it before publishing.
                stored = await candles(symbol, interval, start, start + step)
                if stored and stored[-1].start == start:
                    current = stored[-1]
                else:
                    mid = quote.mid
                    current = Candle(start, mid, mid, mid, mid, quote.volume or Decimal(0))
            else:
                current = current.with_quote(quote)
            yield current
