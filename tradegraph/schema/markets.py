"""GraphQL types, inputs and enums for instruments, quotes and candles."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, time
from decimal import Decimal

import strawberry

from tradegraph import decimals, documents, errors
from tradegraph.markets import candles, quotes
from tradegraph.markets.history_status import HistoryStatus
from tradegraph.markets.instruments import InstrumentFields
from tradegraph.schema.core.context import Info

PERCENT = Decimal("0.01")


async def scales_of(info: Info, symbol: str) -> decimals.Scales:
    """How the symbol's prices and cash are shown, through the operation's instrument loader:
    a list asking per item costs one query."""
    found = await info.context.loaders.instruments.load(symbol)
    if found is None:
        return decimals.Scales.of(None, None)
    return decimals.Scales.of(found.tick_size, found.currency)


async def cash_of(info: Info, symbol: str, amount: float | Decimal) -> Decimal:
    """`amount` of the symbol's currency at that currency's scale (2 when it is unknown)."""
    return (await scales_of(info, symbol)).cash(amount)


async def price_of(info: Info, symbol: str, price: float | Decimal) -> Decimal:
    """`price` at the symbol's tick decimals (as computed when the symbol is unknown)."""
    return (await scales_of(info, symbol)).price(price)


strawberry.enum(documents.AssetClass, name="AssetClass")
AssetClass = documents.AssetClass

strawberry.enum(
    documents.CandleInterval, name="CandleInterval", description="Candle width, aligned to UTC."
)
CandleInterval = documents.CandleInterval


@strawberry.type(description="A tradable instrument.")
class Instrument:
    symbol: str = strawberry.field(description="Unique, upper case (PETR4, AAPL, BTCUSDT).")
    name: str
    asset_class: AssetClass
    exchange: str
    currency: str = strawberry.field(description="Prices and cash are in this currency.")
    tick_size: Decimal = strawberry.field(description="Prices are multiples of this.")
    lot_size: Decimal = strawberry.field(description="Quantities are multiples of this.")
    timezone: str = strawberry.field(description="IANA time zone of the trading day.")
    session_close: time = strawberry.field(
        description="Local time the trading day ends; DAY orders expire then (00:00 = midnight)."
    )

    @classmethod
    def from_document(cls, doc: documents.Instrument) -> Instrument:
        return cls(
            symbol=doc.symbol,
            name=doc.name,
            asset_class=doc.asset_class,
            exchange=doc.exchange,
            currency=doc.currency,
            tick_size=doc.tick_size,
            lot_size=doc.lot_size,
            timezone=doc.timezone,
            session_close=doc.close_time,
        )


def instrument_fields(source: object) -> InstrumentFields:
    """The InstrumentFields of either input type (they share the field names)."""
    return InstrumentFields(**{f.name: getattr(source, f.name) for f in fields(InstrumentFields)})


@strawberry.input(description="A new instrument (ADMIN).")
class InstrumentInput:
    symbol: str
    name: str
    asset_class: AssetClass
    exchange: str
    currency: str
    tick_size: Decimal = strawberry.field(default=Decimal("0.01"))
    lot_size: Decimal = strawberry.field(default=Decimal(1))
    timezone: str = "UTC"
    session_close: time = strawberry.field(default=time(0, 0))

    def to_fields(self) -> InstrumentFields:
        return instrument_fields(self)


@strawberry.input(description="Changes to an instrument (ADMIN); omitted fields stay as they are.")
class InstrumentUpdateInput:
    name: str | None = strawberry.field(default=None, description="Display name.")
    asset_class: AssetClass | None = strawberry.field(default=None, description="Asset class.")
    exchange: str | None = strawberry.field(default=None, description="Listing venue.")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code prices are quoted in."
    )
    tick_size: Decimal | None = strawberry.field(
        default=None, description="Price increment; open orders keep their prices."
    )
    lot_size: Decimal | None = strawberry.field(default=None, description="Quantity increment.")
    timezone: str | None = strawberry.field(
        default=None, description="IANA zone of the trading day (DAY orders end at its close)."
    )
    session_close: time | None = strawberry.field(
        default=None, description="Local time the trading day closes."
    )

    def to_fields(self) -> InstrumentFields:
        return instrument_fields(self)


@strawberry.type(
    description="Best bid and ask of an instrument at a moment, with its session so far: since "
    "the previous session close in the instrument's time zone, or the last 24 hours for crypto."
)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    mid: Decimal = strawberry.field(
        description="(bid + ask) / 2, at one more decimal than the tick; positions are marked "
        "at it."
    )
    bid_size: Decimal | None
    ask_size: Decimal | None
    timestamp: datetime
    last: Decimal = strawberry.field(
        description="Last trade price when the feed reports one, else mid."
    )
    open: Decimal | None = strawberry.field(description="First price of the session.")
    high: Decimal | None = strawberry.field(description="Highest price of the session.")
    low: Decimal | None = strawberry.field(description="Lowest price of the session.")
    previous_close: Decimal | None = strawberry.field(
        description="Last price before the session started; null without earlier history."
    )
    change: Decimal | None = strawberry.field(description="last - previousClose.")
    change_percent: Decimal | None = strawberry.field(
        description="100 * change / previousClose, two decimals (1.25 means +1.25%)."
    )
    volume: Decimal = strawberry.field(description="Traded quantity of the session.")

    @strawberry.field(description="The instrument quoted.")
    async def instrument(self, info: Info) -> Instrument:
        found = await info.context.loaders.instruments.load(self.symbol)
        if found is None:
            raise errors.NotFound(f"unknown symbol {self.symbol}", symbol=self.symbol)
        return Instrument.from_document(found)

    @classmethod
    def from_value(cls, quote: quotes.Quote) -> Quote:
        """Prices at the instrument's tick decimals; mid and last one more (a mid can fall
        between ticks); changePercent at two."""
        session = quote.session
        scales = decimals.Scales(price_places=quote.places, cash_places=0)  # prices only

        def price(value: Decimal, extra: int = 0) -> Decimal:
            return scales.price(value, extra)

        def maybe_price(value: Decimal | None, extra: int = 0) -> Decimal | None:
            return None if value is None else scales.price(value, extra)

        last = quote.last_price
        previous = session.previous_close if session else None
        change = last - previous if previous is not None else None
        percent = (
            (100 * change / previous).quantize(PERCENT) if change is not None and previous else None
        )
        return cls(
            symbol=quote.symbol,
            bid=price(quote.bid),
            ask=price(quote.ask),
            mid=price(quote.mid, 1),
            bid_size=quote.bid_size,
            ask_size=quote.ask_size,
            timestamp=quote.timestamp,
            last=price(last, 1),
            open=maybe_price(session.open if session else None),
            high=maybe_price(session.high if session else None),
            low=maybe_price(session.low if session else None),
            previous_close=maybe_price(previous),
            change=maybe_price(change, 1),
            change_percent=percent,
            volume=session.volume if session else Decimal(0),
        )


@strawberry.input(description="A quote to publish (ADMIN); it takes the same path as feed quotes.")
class QuoteInput:
    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal | None = strawberry.field(
        default=None, description="Quantity available at the bid; null: unlimited for matching."
    )
    ask_size: Decimal | None = strawberry.field(
        default=None, description="Quantity available at the ask; null: unlimited for matching."
    )
    last: Decimal | None = strawberry.field(
        default=None, description="Last trade price, if any; Quote.last falls back to mid."
    )
    timestamp: datetime | None = strawberry.field(default=None, description="Defaults to now.")

    def to_value(self, now: datetime) -> quotes.Quote:
        return quotes.Quote(
            symbol=self.symbol,
            bid=self.bid,
            ask=self.ask,
            timestamp=self.timestamp or now,
            bid_size=self.bid_size,
            ask_size=self.ask_size,
            last=self.last,
        )


@strawberry.type(
    description="Open, high, low and close of mid prices over one interval, at one more "
    "decimal than the tick (as Quote.mid)."
)
class Candle:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = strawberry.field(description="Traded quantity reported by the feed.")

    @classmethod
    def from_value(cls, candle: candles.Candle, scales: decimals.Scales) -> Candle:
        return cls(
            start=candle.start,
            open=scales.price(candle.open, 1),
            high=scales.price(candle.high, 1),
            low=scales.price(candle.low, 1),
            close=scales.price(candle.close, 1),
            volume=candle.volume,
        )


@strawberry.input
class CandleInput:
    start: datetime = strawberry.field(description="Aligned to the interval, UTC.")
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = strawberry.field(default=Decimal(0))

    def to_value(self) -> candles.Candle:
        return candles.Candle(
            start=self.start,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
        )


@strawberry.input(description="Historical candles to load (ADMIN).")
class ImportCandlesInput:
    symbol: str
    interval: CandleInterval
    candles: list[CandleInput]


@strawberry.type(description="Whether this server is still loading price history.")
class MarketHistory:
    loading: bool = strawberry.field(
        description="True while the first run of a demo server seeds its price history: "
        "candles, indicators and day changes are partial until it ends."
    )
    started_at: datetime | None = strawberry.field(description="When the load began.")
    finished_at: datetime | None = strawberry.field(description="When the last load ended.")

    @classmethod
    def from_status(cls, status: HistoryStatus) -> MarketHistory:
        return cls(
            loading=status.loading,
            started_at=status.started_at,
            finished_at=status.finished_at,
        )
