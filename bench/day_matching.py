"""What matching one quote costs as orders accumulate in the embedded store: the engine with its
in-memory order book against the engine reading the symbol's open orders from the store (as
before issue 21), on the same store in the same run.

python -m bench matching [--orders 1000,8000] [--quotes 190]

The store holds `stored` orders over 19 symbols, 1 in 8 of them resting (GTC limits away from
the market, as a day's unfilled LIMITs), the rest finished. Each measured quote is one symbol's
new quote matched against its resting orders (none crosses: the common case of a tick).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from beanie import PydanticObjectId

from tradegraph.config import Settings
from tradegraph.documents import Order, OrderStatus, OrderType, Side, TimeInForce
from tradegraph.documents.markets import AssetClass, Instrument
from tradegraph.markets.quotes import Quote
from tradegraph.services import Services, start_services, stop_services
from tradegraph.trading.engine import MatchingEngine

SYMBOLS = [f"SYM{i:02d}" for i in range(19)]
FINISHED = [OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED]


def stored_order(number: int, portfolio_id: PydanticObjectId, now: datetime) -> Order:
    resting = number % 8 == 0
    side = Side.BUY if number % 2 else Side.SELL
    return Order(
        portfolio_id=portfolio_id,
        owner_id="bench",
        client_order_id=f"bench-{number}",
        symbol=SYMBOLS[number % len(SYMBOLS)],
        side=side,
        type=OrderType.LIMIT,
        quantity=Decimal(10),
        limit_price=Decimal("5.00") if side is Side.BUY else Decimal("20.00"),
        time_in_force=TimeInForce.GTC,
        status=OrderStatus.NEW if resting else FINISHED[number % len(FINISHED)],
        filled_quantity=Decimal(0) if resting else Decimal(10),
        filled_notional=Decimal(0) if resting else Decimal(100),
        reserved=Decimal(50) if resting else Decimal(0),
        created_at=now - timedelta(seconds=number),
        updated_at=now,
    )


async def fill_store(count: int, already: int) -> None:
    now = datetime.now(UTC)
    portfolio_id = PydanticObjectId()
    orders = [stored_order(n, portfolio_id, now) for n in range(already, count)]
    if orders:
        await Order.insert_many(orders)


async def time_quotes(engine: MatchingEngine, quotes: int) -> list[float]:
    """Milliseconds per on_quote, one symbol after another."""
    spent = []
    for n in range(quotes):
        symbol = SYMBOLS[n % len(SYMBOLS)]
        quote = Quote(symbol, Decimal("9.99"), Decimal("10.01"), datetime.now(UTC))
        started = time.perf_counter()
        async with engine.market.lock(symbol):
            await engine.on_quote(quote)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def run(stored: list[int], quotes: int) -> None:
    services: Services = await start_services(Settings(data_dir=None))
    try:
        for symbol in SYMBOLS:
            await Instrument(
                symbol=symbol,
                name=symbol,
                asset_class=AssetClass.STOCK,
                exchange="BENCH",
                currency="USD",
                tick_size=Decimal("0.01"),
                lot_size=Decimal(1),
            ).insert()
        booked = services.engine
        assert booked.book is not None
        from_store = MatchingEngine(
            services.market, services.instruments, booked.execution, Decimal(0), Decimal(0)
        )
        print(f"{'stored':>7} {'resting':>7}  {'store p50':>9} {'store p99':>9}"
              f"  {'book p50':>8} {'book p99':>8}  {'ratio p50':>9}   (ms per quote)")  # fmt: skip
        done = 0
        for count in stored:
            await fill_store(count, done)
            done = count
            booked.book.reload()
            await time_quotes(booked, len(SYMBOLS))  # loads the book: not measured
            before = await time_quotes(from_store, quotes)
            after = await time_quotes(booked, quotes)
            ratio = statistics.median(after) / statistics.median(before)
            print(
                f"{count:>7} {count // 8:>7}  {p(before, 0.5):>9.2f} {p(before, 0.99):>9.2f}"
                f"  {p(after, 0.5):>8.2f} {p(after, 0.99):>8.2f}  {ratio:>9.3f}x"
            )
    finally:
        await stop_services(services)
