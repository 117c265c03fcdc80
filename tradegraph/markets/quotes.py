"""The one path every quote takes, whatever its source: validate, store, publish, match."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import structlog
from pymongo.errors import DuplicateKeyError

from tradegraph.decimals import plain, step_places, stored
from tradegraph.documents import LatestQuote, Tick
from tradegraph.errors import InvalidInput
from tradegraph.markets import bars
from tradegraph.markets.history_status import HistoryStatus
from tradegraph.markets.instruments import Instruments, normalise_symbol
from tradegraph.markets.sessions import SessionBook, SessionStats
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import quote_channel

log = structlog.get_logger(__name__)
MAX_FUTURE = timedelta(minutes=5)


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    timestamp: datetime
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    volume: Decimal | None = None  # traded quantity since the previous quote, when known
    last: Decimal | None = None  # last trade price, when the feed reports one
    session: SessionStats | None = None  # filled in by MarketData
    places: int | None = None  # decimals of the instrument's tick size, filled in by MarketData
    # Price levels beyond the touch, each as deep as the touch, one spread apart: the book a
    # simulated market offers (a MARKET order walks it). Real feeds report the touch only (0).
    levels: int = 0

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def last_price(self) -> Decimal:
        """The last trade price if known, else the mid."""
        return self.last if self.last is not None else self.mid

    @classmethod
    def from_latest(cls, latest: LatestQuote) -> Quote:
        return cls(
            latest.id,
            latest.bid,
            latest.ask,
            latest.timestamp.astimezone(UTC),
            latest.bid_size,
            latest.ask_size,
            last=latest.last,
        )


def encode_quote(quote: Quote) -> str:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else plain(value)

    return json.dumps(
        {
            "symbol": quote.symbol,
            "bid": plain(quote.bid),
            "ask": plain(quote.ask),
            "bidSize": text(quote.bid_size),
            "askSize": text(quote.ask_size),
            "volume": text(quote.volume),
            "last": text(quote.last),
            "timestamp": quote.timestamp.isoformat(),
            "session": None if quote.session is None else encode_session(quote.session),
            "places": quote.places,
        }
    )


def encode_session(session: SessionStats) -> dict[str, str | None]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else plain(value)

    return {
        "start": session.start.isoformat(),
        "open": text(session.open),
        "high": text(session.high),
        "low": text(session.low),
        "previousClose": text(session.previous_close),
        "volume": plain(session.volume),
    }


def decode_session(raw: dict[str, str | None] | None) -> SessionStats | None:
    if raw is None:
        return None

    def number(key: str) -> Decimal | None:
        value = raw.get(key)
        return None if value is None else Decimal(value)

    return SessionStats(
        start=datetime.fromisoformat(str(raw["start"])),
        open=number("open"),
        high=number("high"),
        low=number("low"),
        previous_close=number("previousClose"),
        volume=Decimal(str(raw["volume"])),
    )


def decode_quote(message: str) -> Quote:
    raw = json.loads(message)

    def number(key: str) -> Decimal | None:
        return None if raw.get(key) is None else Decimal(raw[key])

    return Quote(
        symbol=raw["symbol"],
        bid=Decimal(raw["bid"]),
        ask=Decimal(raw["ask"]),
        timestamp=datetime.fromisoformat(raw["timestamp"]),
        bid_size=number("bidSize"),
        ask_size=number("askSize"),
        volume=number("volume"),
        last=number("last"),
        session=decode_session(raw.get("session")),
        places=raw.get("places"),
    )


def check_quote(quote: Quote) -> Quote:
    """The quote with its symbol normalised and timestamp in UTC; InvalidInput when not sane."""
    if quote.bid <= 0 or quote.ask <= 0:
        raise InvalidInput("bid and ask must be greater than 0", field="bid")
    if quote.bid > quote.ask:
        raise InvalidInput(
            f"bid {plain(quote.bid)} is above ask {plain(quote.ask)}: a crossed quote",
            field="bid",
        )
    for name, size in (
        ("bidSize", quote.bid_size),
        ("askSize", quote.ask_size),
        ("volume", quote.volume),
        ("last", quote.last),
    ):
        if size is not None and size < 0:
            raise InvalidInput(f"{name} must not be negative", field=name)
    if quote.timestamp.tzinfo is None:
        raise InvalidInput("timestamp needs a time zone (UTC offset)", field="timestamp")
    timestamp = quote.timestamp.astimezone(UTC)
    if timestamp > datetime.now(UTC) + MAX_FUTURE:
        raise InvalidInput("timestamp is more than 5 minutes in the future", field="timestamp")
    return replace(quote, symbol=normalise_symbol(quote.symbol), timestamp=timestamp)


OnQuote = Callable[[Quote], Awaitable[None]]


class MarketData:
    """Quotes in, per symbol in arrival order; the matching engine hears of each new one."""

    def __init__(self, instruments: Instruments, broker: Broker) -> None:
        self.instruments = instruments
        self.broker = broker
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._listeners: list[OnQuote] = []
        self.sessions = SessionBook()
        self.history = HistoryStatus()  # set while `serve` seeds price history

    def on_quote(self, listener: OnQuote) -> None:
        self._listeners.append(listener)

    def lock(self, symbol: str) -> asyncio.Lock:
        """Held while a symbol's quote is applied or its orders match against it."""
        return self._locks[symbol]

    async def ingest(self, quote: Quote) -> Quote:
        quote = check_quote(quote)
        instrument = await self.instruments.require(quote.symbol)
        async with self.lock(quote.symbol):
            await Tick(
                symbol=quote.symbol,
                timestamp=quote.timestamp,
                bid=quote.bid,
                ask=quote.ask,
                mid=quote.mid,
                bid_size=quote.bid_size,
                ask_size=quote.ask_size,
                volume=quote.volume,
            ).insert()
            await bars.record_tick(quote.symbol, quote.timestamp, quote.mid, quote.volume)
            if not await _replace_latest(quote):
                log.debug("older quote stored as a tick only", symbol=quote.symbol)
                return quote
            session = await self.sessions.on_tick(
                instrument, datetime.now(UTC), quote.timestamp, quote.last_price, quote.volume
            )
            quote = replace(quote, session=session, places=step_places(instrument.tick_size))
            # last-value: a quote missed while the broker is down is superseded by the next
            await self.broker.publish_latest(quote_channel(quote.symbol), encode_quote(quote))
            for listener in self._listeners:
                try:
                    await listener(quote)
                except Exception:  # a failing listener must not stop the feed
                    log.exception("quote listener failed", symbol=quote.symbol)
        return quote

    async def latest(self, symbol: str) -> Quote | None:
        """The newest quote of `symbol` with its session statistics; None before the first."""
        found = await LatestQuote.get(normalise_symbol(symbol))
        return await self._with_session(Quote.from_latest(found)) if found else None

    async def latest_many(self, symbols: list[str]) -> dict[str, Quote]:
        """The newest quotes of `symbols` (one query), each with its session statistics."""
        found = await LatestQuote.find({"_id": {"$in": symbols}}).to_list()
        return {latest.id: await self._with_session(Quote.from_latest(latest)) for latest in found}

    async def _with_session(self, quote: Quote) -> Quote:
        instrument = await self.instruments.get(quote.symbol)
        if instrument is None:
            return quote
        session = await self.sessions.stats(instrument, datetime.now(UTC))
        return replace(quote, session=session, places=step_places(instrument.tick_size))


async def _replace_latest(quote: Quote) -> bool:
    """Upserts the latest quote unless a newer one is stored; False for an older arrival."""
    values = {
        "timestamp": quote.timestamp,
        "bid": stored(quote.bid),
        "ask": stored(quote.ask),
        "mid": stored(quote.mid),
        "bid_size": None if quote.bid_size is None else stored(quote.bid_size),
        "ask_size": None if quote.ask_size is None else stored(quote.ask_size),
        "last": None if quote.last is None else stored(quote.last),
    }
    try:
        await LatestQuote.get_pymongo_collection().update_one(
            {"_id": quote.symbol, "timestamp": {"$lte": quote.timestamp}},
            {"$set": values},
            upsert=True,
        )
    except DuplicateKeyError:  # a newer quote is stored: the filter missed, the insert clashed
        return False
    return True
