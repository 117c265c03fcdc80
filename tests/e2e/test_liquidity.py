"""Simulated liquidity: realistic top-of-book sizes, market orders that walk the book and fill
at once, and crypto orders that never carry a midnight DAY."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    PLACE_ORDER,
    create_instrument,
    dec,
    funded_portfolio,
    order_input,
    place,
    portfolio,
)
from tradegraph.documents import Instrument
from tradegraph.markets.quotes import Quote
from tradegraph.markets.simulated import PricePath
from tradegraph.markets.universe import UNIVERSE
from tradegraph.services import Services

BTC = {
    "symbol": "BTCUSDT",
    "name": "Bitcoin / Tether",
    "assetClass": "CRYPTO",
    "exchange": "BINANCE",
    "currency": "USDT",
    "tickSize": "0.01",
    "lotSize": "0.00001",
    "timezone": "UTC",
    "sessionClose": "00:00:00",
}


def listed(symbol: str) -> Instrument:
    listing = next(item for item in UNIVERSE if item.symbol == symbol)
    exchange, currency, timezone, close = listing.venue
    return Instrument(
        symbol=listing.symbol,
        name=listing.name,
        asset_class=listing.asset_class,
        exchange=exchange,
        currency=currency,
        tick_size=listing.tick_size,
        lot_size=listing.lot_size,
        timezone=timezone,
        session_close=close.strftime("%H:%M"),
    )


async def test_simulated_quotes_show_a_venues_top_of_book_so_retail_orders_fit(
    services: Services,  # documents need the store initialised
) -> None:
    now = datetime.now(UTC)
    for symbol, retail in (("BTCUSDT", Decimal("0.5")), ("AAPL", Decimal(100))):
        instrument = listed(symbol)
        start = next(item.reference_price for item in UNIVERSE if item.symbol == symbol)
        path = PricePath(instrument, start, 0.05, 0.3, 1 / (365 * 24 * 3600), seed=3)
        quotes = [path.next_quote(now) for _ in range(200)]
        for quote in quotes:
            assert quote.ask_size is not None
            assert quote.bid_size is not None
            assert min(quote.ask_size, quote.bid_size) >= retail, (symbol, quote)
            assert quote.ask_size % instrument.lot_size == 0
            assert quote.levels > 0  # a book to walk beyond the touch
        sizes = {quote.ask_size for quote in quotes}
        assert len(sizes) > 50  # sizes vary from quote to quote


async def test_a_market_buy_larger_than_the_touch_walks_the_book_and_fills_at_once(
    services: Services, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "10000")
    size = Decimal(100)
    quote = Quote("PETR4", Decimal("10.00"), Decimal("10.02"), datetime.now(UTC), size, size)
    await services.market.ingest(Quote(**{**quote.__dict__, "levels": 10}))
    order = await place(gql, token, pid, "BUY", "250")
    assert (order["status"], dec(order["filledQuantity"])) == ("FILLED", 250)
    walked = [(dec(f["quantity"]), dec(f["price"])) for f in order["fills"]]
    # One spread (0.02) worse per level emptied.
    assert walked == [(100, dec("10.02")), (100, dec("10.04")), (50, dec("10.06"))]
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == 10000 - (1002 + 1004 + 503)
    assert dec(state["availableCash"]) == dec(state["cash"])  # the walk allowance is back


async def test_a_limit_order_does_not_walk_past_the_touch(
    services: Services, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "10000")
    size = Decimal(100)
    quote = Quote("PETR4", Decimal("10.00"), Decimal("10.02"), datetime.now(UTC), size, size)
    await services.market.ingest(Quote(**{**quote.__dict__, "levels": 10}))
    order = await place(gql, token, pid, "BUY", "250", type="LIMIT", limitPrice="10.10")
    assert (order["status"], dec(order["filledQuantity"])) == ("PARTIALLY_FILLED", 100)


async def test_crypto_orders_default_to_gtc_and_refuse_a_midnight_day(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token, **BTC)
    pid = await funded_portfolio(gql, token, "100000", currency="USDT")
    await gql.data(
        "mutation($input: QuoteInput!) { publishQuote(input: $input) { symbol } }",
        {"input": {"symbol": "BTCUSDT", "bid": "97000.00", "ask": "97000.10", "askSize": "3"}},
        admin_token,
    )
    order = await place(gql, token, pid, "BUY", "0.5", symbol="BTCUSDT")
    assert (order["status"], order["timeInForce"], order["expiresAt"]) == ("FILLED", "GTC", None)
    before = await portfolio(gql, token, pid)
    variables = {"input": order_input(pid, "BUY", "0.1", symbol="BTCUSDT", timeInForce="DAY")}
    error = await gql.error(PLACE_ORDER, variables, token)
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "timeInForce"
    assert "GTC" in error["message"]
    assert await portfolio(gql, token, pid) == before  # nothing reserved, nothing stored
    resting = await place(gql, token, pid, "BUY", "0.1", symbol="BTCUSDT", type="LIMIT",
                          limitPrice="90000.00")  # fmt: skip
    assert (resting["timeInForce"], resting["expiresAt"]) == ("GTC", None)


async def test_stock_orders_still_default_to_day(
    services: Services, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    order = await place(gql, token, pid, "BUY", "1", type="LIMIT", limitPrice="5.00")
    assert order["timeInForce"] == "DAY"
    assert order["expiresAt"] is not None
