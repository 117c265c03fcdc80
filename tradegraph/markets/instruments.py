"""The instrument catalogue: validation, creation, updates and search."""

from __future__ import annotations

import re
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pymongo.errors import DuplicateKeyError

from tradegraph.decimals import require_positive
from tradegraph.documents import AssetClass, Instrument
from tradegraph.errors import AlreadyExists, InvalidInput, NotFound

SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-_/]{0,31}$")
CURRENCY = re.compile(r"^[A-Z]{3,5}$")  # ISO 4217, or a crypto quote asset such as USDT
CACHE_SECONDS = 5.0  # instruments change rarely; quotes look them up many times a second
MAX_SYMBOLS_PER_REQUEST = 100  # a quotes subscription or snapshot names at most this many


@dataclass
class InstrumentFields:
    """What createInstrument / updateInstrument may set; None means "leave as is"."""

    name: str | None = None
    asset_class: AssetClass | None = None
    exchange: str | None = None
    currency: str | None = None
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    timezone: str | None = None
    session_close: time | None = None

    def changes(self) -> dict[str, Any]:
        values = self._given()
        if "session_close" in values:
            values["session_close"] = values["session_close"].strftime("%H:%M")
        return values

    def _given(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


def normalise_symbol(symbol: str) -> str:
    return symbol.strip().upper()


def _check(values: InstrumentFields) -> None:
    if values.name is not None and not 0 < len(values.name.strip()) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    if values.exchange is not None and not 0 < len(values.exchange.strip()) <= 32:
        raise InvalidInput("exchange must be 1 to 32 characters", field="exchange")
    if values.currency is not None and not CURRENCY.match(values.currency):
        raise InvalidInput(
            "currency must be an upper-case code such as BRL, USD or USDT", field="currency"
        )
    if values.tick_size is not None:
        require_positive(values.tick_size, "tickSize")
    if values.lot_size is not None:
        require_positive(values.lot_size, "lotSize")
    if values.timezone is not None:
        try:
            ZoneInfo(values.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InvalidInput(
                f"timezone {values.timezone!r} is not an IANA time zone such as America/Sao_Paulo",
                field="timezone",
            ) from error


class Instruments:
    """Catalogue access with a short per-process cache for the quote path."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, Instrument | None]] = {}
        self._on_created: list[Callable[[Instrument], None]] = []

    def on_created(self, listener: Callable[[Instrument], None]) -> None:
        """`listener` hears of each instrument created in this process (a feed prices it)."""
        self._on_created.append(listener)

    def forget(self) -> None:
        """Drops the cache (tests that reset the store)."""
        self._cache.clear()

    async def create(self, symbol: str, values: InstrumentFields) -> Instrument:
        symbol = normalise_symbol(symbol)
        if not SYMBOL.match(symbol):
            raise InvalidInput(
                "symbol must be 1-32 characters: letters, digits, '.', '-', '_' or '/'",
                field="symbol",
            )
        missing = [
            name
            for name in ("name", "asset_class", "exchange", "currency")
            if getattr(values, name) is None
        ]
        if missing:
            raise InvalidInput(f"missing: {', '.join(missing)}", field=missing[0])
        _check(values)
        instrument = Instrument(
            symbol=symbol,
            **{"tick_size": Decimal("0.01"), "lot_size": Decimal(1), **values.changes()},
        )
        try:
            await instrument.insert()
        except DuplicateKeyError as error:
            raise AlreadyExists(f"instrument {symbol} already exists", symbol=symbol) from error
        self._cache.pop(symbol, None)
        for listener in self._on_created:
            listener(instrument)
        return instrument

    async def update(self, symbol: str, values: InstrumentFields) -> Instrument:
        _check(values)
        instrument = await self.require(symbol, cached=False)
        changes = values.changes()
        if changes:
            await instrument.set(changes)
        self._cache.pop(instrument.symbol, None)
        return instrument

    async def get(self, symbol: str, cached: bool = True) -> Instrument | None:
        symbol = normalise_symbol(symbol)
        hit = self._cache.get(symbol)
        if cached and hit and clock.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        found = await Instrument.find_one(Instrument.symbol == symbol)
        if found is not None:  # misses are not kept: unknown symbols must not grow the cache
            self._cache[symbol] = (clock.monotonic(), found)
        return found

    async def require(self, symbol: str, cached: bool = True) -> Instrument:
        found = await self.get(symbol, cached)
        if found is None:
            raise NotFound(
                f"unknown symbol {normalise_symbol(symbol)}; see instruments",
                symbol=normalise_symbol(symbol),
            )
        return found

    async def by_symbols(self, symbols: Sequence[str]) -> list[Instrument | None]:
        """Instruments in the order asked, None where unknown: one query for a batch."""
        names = [normalise_symbol(s) for s in symbols]
        found = await Instrument.find({"symbol": {"$in": list(set(names))}}).to_list()
        by_symbol = {instrument.symbol: instrument for instrument in found}
        return [by_symbol.get(name) for name in names]

    async def require_symbols(
        self, symbols: list[str], maximum: int = MAX_SYMBOLS_PER_REQUEST
    ) -> list[str]:
        """1 to `maximum` known symbols, normalised, each once, in the order given."""
        if not 0 < len(symbols) <= maximum:
            raise InvalidInput(f"give 1 to {maximum} symbols", field="symbols")
        names = list(dict.fromkeys(normalise_symbol(s) for s in symbols))
        for name in names:
            await self.require(name, cached=False)
        return names

    async def search(self, text: str | None, asset_class: AssetClass | None) -> list[Instrument]:
        query: dict[str, Any] = {}
        if asset_class is not None:
            query["asset_class"] = asset_class.value
        if text and text.strip():
            pattern = re.escape(text.strip())
            query["$or"] = [
                {"symbol": {"$regex": pattern, "$options": "i"}},
                {"name": {"$regex": pattern, "$options": "i"}},
            ]
        return await Instrument.find(query).sort("symbol").to_list()
