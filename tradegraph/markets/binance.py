"""Binance public market data: combined bookTicker and trade streams over WebSocket.

Messages arrive as {"stream": "btcusdt@bookTicker", "data": {...}}. A bookTicker
({"u", "s", "b", "B", "a", "A"}) becomes a quote; trades ({"e": "trade", "s", "p", "q", "T", …})
add their quantity to the volume carried by the symbol's next quote. Connections drop (Binance
closes every one after 24 hours): the feed reconnects with exponential backoff and full jitter.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
import websockets
from websockets.asyncio.client import connect

from tradegraph.errors import DomainError
from tradegraph.markets.quotes import MarketData, Quote

log = structlog.get_logger(__name__)

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


def stream_url(base_url: str, symbols: list[str]) -> str:
    streams = "/".join(f"{s.lower()}@{kind}" for s in symbols for kind in ("bookTicker", "trade"))
    return f"{base_url.rstrip('/')}/stream?streams={streams}"


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, first * 2^attempt)]."""
    return rng.uniform(0, min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2**attempt))


class BinanceFeed:
    def __init__(self, market: MarketData, base_url: str, symbols: list[str]) -> None:
        self.market = market
        self.url = stream_url(base_url, symbols)
        self.description = f"Binance streams at {base_url} for {', '.join(symbols)}"
        self._volume: dict[str, Decimal] = {}
        self._refused: set[str] = set()
        self._random = random.Random()
        self.connections = 0

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                async with connect(self.url, open_timeout=10, ping_interval=20) as socket:
                    self.connections += 1
                    log.info("binance stream connected", url=self.url)
                    async for raw in socket:
                        attempt = 0  # a working connection resets the backoff
                        await self.handle(json.loads(raw))
            except (OSError, TimeoutError, websockets.WebSocketException, ValueError) as error:
                log.warning("binance stream lost", error=repr(error))
            delay = backoff_delay(attempt, self._random)
            attempt += 1
            log.info("binance stream reconnecting", in_seconds=round(delay, 2), attempt=attempt)
            await asyncio.sleep(delay)

    async def handle(self, message: dict[str, Any]) -> None:
        data = message.get("data", message)
        stream = str(message.get("stream", ""))
        if data.get("e") == "trade" or stream.endswith("@trade"):
            symbol = data["s"]
            self._volume[symbol] = self._volume.get(symbol, Decimal(0)) + Decimal(data["q"])
            return
        if not {"s", "b", "a"} <= data.keys():
            return  # subscription acks and other control messages
        symbol = data["s"]
        quote = Quote(
            symbol=symbol,
            bid=Decimal(data["b"]),
            ask=Decimal(data["a"]),
            timestamp=datetime.now(UTC),  # spot bookTicker carries no event time
            bid_size=Decimal(data["B"]),
            ask_size=Decimal(data["A"]),
            volume=self._volume.pop(symbol, Decimal(0)),
        )
        try:
            await self.market.ingest(quote)
        except DomainError as error:
            if symbol not in self._refused:  # say it once, not on every quote
                self._refused.add(symbol)
                log.warning("binance quote refused", symbol=symbol, reason=error.message)
