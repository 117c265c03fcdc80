"""The matching engine's in-memory order book: after every kind of order change it holds
exactly the open orders the store holds, and matching from it trades exactly what matching
from the store query trades."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beanie import PydanticObjectId

from tests.e2e.conftest import login_admin, register
from tests.e2e.test_order_classes import BRACKET, legs_of, place_class
from tests.e2e.test_store import running
from tests.support.clients import GraphQLClient
from tests.support.trading import (
    CANCEL_ORDER,
    create_instrument,
    funded_portfolio,
    place,
    publish_quote,
    quoted_portfolio,
)
from tradegraph.documents import Order, OrderStatus
from tradegraph.documents.orders import OPEN_STATUSES
from tradegraph.services import Services
from tradegraph.trading.order_book import OrderBook

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TRADEGRAPH_MONGODB_URL")),
    reason="on a MongoDB server the engine keeps no book (several processes may share it)",
)

REPLACE = """mutation($id: ID!, $input: ReplaceOrderInput!) {
  replaceOrder(id: $id, input: $input) { id status }
}"""


def book_of(services: Services) -> OrderBook:
    book = services.engine.book
    assert book is not None, "the test server runs on the emulation: it keeps a book"
    return book


async def assert_book_is_the_store(services: Services, symbol: str = "PETR4") -> list[str]:
    """The book's open orders of `symbol`, in priority, equal the store's; returns their ids."""
    book = book_of(services)
    assert await book.candidates(symbol, Decimal("0.01"), Decimal(10**9)) is not None  # loaded
    stored = Order.find({"symbol": symbol, "status": {"$in": OPEN_STATUSES}})
    expected = [o.id for o in await stored.sort("created_at", "_id").to_list()]
    assert book.open_ids(symbol) == expected
    return [str(i) for i in expected]


async def resting_buy(
    gql: GraphQLClient, token: str, pid: str, quantity: str, limit: str
) -> dict[str, Any]:
    """A GTC BUY LIMIT of PETR4 (below the ask, so it rests)."""
    return await place(
        gql, token, pid, "BUY", quantity, type="LIMIT", limitPrice=limit, timeInForce="GTC"
    )


async def status(order_id: str) -> tuple[str, Decimal]:
    order = await Order.get(PydanticObjectId(order_id))
    assert order is not None
    return order.status.value, order.filled_quantity


async def test_the_book_follows_rest_partial_fill_fill_cancel_and_replace(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "10000", bid="10.00", ask="10.10")
    assert await assert_book_is_the_store(services) == []
    first = await resting_buy(gql, token, pid, "10", "9.90")
    second = await resting_buy(gql, token, pid, "10", "9.80")
    assert await assert_book_is_the_store(services) == [first["id"], second["id"]]

    await publish_quote(gql, admin_token, bid="9.85", ask="9.90", askSize="4")  # a partial fill
    assert await status(first["id"]) == ("PARTIALLY_FILLED", 4)
    assert await assert_book_is_the_store(services) == [first["id"], second["id"]]

    change = {"id": second["id"], "input": {"limitPrice": "9.70"}}
    replaced = await gql.data(REPLACE, change, token)
    new_id = replaced["replaceOrder"]["id"]
    assert await assert_book_is_the_store(services) == [first["id"], new_id]
    await gql.data(CANCEL_ORDER, {"id": first["id"]}, token)
    assert await assert_book_is_the_store(services) == [new_id]

    await publish_quote(gql, admin_token, bid="9.60", ask="9.70")  # the replacement fills
    assert await status(new_id) == ("FILLED", 10)
    assert await assert_book_is_the_store(services) == []


async def test_expiry_comes_from_the_book_and_leaves_it(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    day = await place(gql, token, pid, "BUY", "5", type="LIMIT", limitPrice="9.00")
    gtc = await resting_buy(gql, token, pid, "5", "9.00")
    expires = datetime.fromisoformat(day["expiresAt"])
    assert await book_of(services).expiring(expires - timedelta(seconds=1)) == []
    assert await book_of(services).expiring(expires) == [PydanticObjectId(day["id"])]
    assert await services.engine.expire_due(now=expires) == 1
    assert (await status(day["id"]))[0] == "EXPIRED"
    assert await assert_book_is_the_store(services) == [gtc["id"]]


async def test_bracket_legs_enter_the_book_when_their_entry_fills(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    entry = await place_class(
        gql, token, pid, "BUY", type="LIMIT", limitPrice="9.50", timeInForce="GTC", **BRACKET
    )
    assert await assert_book_is_the_store(services) == [entry["id"]]  # HELD legs are not open
    await publish_quote(gql, admin_token, bid="9.40", ask="9.50")
    take, stop = await legs_of(gql, token, entry["id"])
    assert (take["status"], stop["status"]) == ("NEW", "NEW")
    assert sorted(await assert_book_is_the_store(services)) == sorted([take["id"], stop["id"]])
    await publish_quote(gql, admin_token, bid="12.00", ask="12.10")  # the take-profit fills
    take, stop = await legs_of(gql, token, entry["id"])
    assert (take["status"], stop["status"]) == ("FILLED", "CANCELED")
    assert await assert_book_is_the_store(services) == []


async def test_a_reloaded_book_reads_the_store_again_and_matches_what_it_holds(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    """What a restart does (the book is read from the store on first use), with an order that
    reached the store without the book hearing of it."""
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    resting = await resting_buy(gql, token, pid, "5", "9.90")
    stored = await Order.get(PydanticObjectId(resting["id"]))
    assert stored is not None
    unheard = stored.model_copy(
        update={"id": PydanticObjectId(), "client_order_id": "unheard", "reserved": Decimal(0)}
    )
    await unheard.insert()  # written behind the book's back, as by a process before a restart
    assert book_of(services).open_ids("PETR4") == [PydanticObjectId(resting["id"])]
    book_of(services).reload()
    assert await assert_book_is_the_store(services) == [resting["id"], str(unheard.id)]
    await publish_quote(gql, admin_token, bid="9.80", ask="9.90")
    assert await status(resting["id"]) == ("FILLED", 5)
    assert (await status(str(unheard.id)))[0] == "CANCELED"  # it reserved nothing: cancelled
    assert await assert_book_is_the_store(services) == []


async def test_a_replacement_recovery_finishes_enters_the_book_and_fills(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    """replaceOrder interrupted after its commit point (the old order REPLACED, the new one
    still PENDING_NEW): recovery makes the new order live without a compare-and-set."""
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    placed = await resting_buy(gql, token, pid, "5", "9.50")
    old = await Order.get(PydanticObjectId(placed["id"]))
    assert old is not None
    earlier = datetime.now(UTC) - timedelta(minutes=10)
    new = old.model_copy(
        update={
            "id": PydanticObjectId(),
            "client_order_id": "replacement",
            "status": OrderStatus.PENDING_NEW,
            "replaces_id": old.id,
            "reserve_delta": Decimal(0),
            "created_at": earlier,
            "version": 0,
        }
    )
    await new.insert()
    assert await services.engine.execution.hand_over(old, new) is not None
    assert book_of(services).open_ids("PETR4") == []
    assert await services.engine.recover(now=datetime.now(UTC)) >= 1
    assert await assert_book_is_the_store(services) == [str(new.id)]
    await publish_quote(gql, admin_token, bid="9.40", ask="9.50")
    assert await status(str(new.id)) == ("FILLED", 5)


async def test_after_a_restart_the_book_is_read_from_the_store_and_resting_orders_fill(
    tmp_path: Path,
) -> None:
    settings = {"data_dir": str(tmp_path), "mongodb_database": f"book_{uuid.uuid4().hex[:12]}"}
    async with running(**settings) as (_, gql):
        admin = await login_admin(gql)
        token = (await register(gql, "rester@example.com"))["accessToken"]
        pid = await quoted_portfolio(gql, admin, token, "1000", ask="10.10")
        first = await resting_buy(gql, token, pid, "5", "9.90")
        second = await resting_buy(gql, token, pid, "5", "9.80")
    async with running(**settings) as (server, gql):
        services: Services = server.app.state.services
        assert not book_of(services).loaded  # nothing read before it is needed
        admin = await login_admin(gql)
        await publish_quote(gql, admin, bid="9.80", ask="9.90")
        assert book_of(services).loaded
        assert book_of(services).open_ids("PETR4") == [PydanticObjectId(second["id"])]
        assert (await status(first["id"]))[0] == "FILLED"
        await publish_quote(gql, admin, bid="9.70", ask="9.80")
        assert (await status(second["id"]))[0] == "FILLED"
        assert book_of(services).open_ids("PETR4") == []


SCENARIO_ORDERS: list[dict[str, Any]] = [
    {"side": "BUY", "quantity": "10", "type": "LIMIT", "limitPrice": "9.90"},
    {"side": "BUY", "quantity": "20", "type": "LIMIT", "limitPrice": "9.80"},
    {"side": "BUY", "quantity": "5", "type": "LIMIT", "limitPrice": "9.95"},
    {"side": "SELL", "quantity": "10", "type": "LIMIT", "limitPrice": "10.20"},
    {"side": "SELL", "quantity": "5", "type": "LIMIT", "limitPrice": "10.30"},
    {"side": "SELL", "quantity": "5", "type": "STOP", "stopPrice": "9.70"},
    {
        "side": "BUY",
        "quantity": "5",
        "type": "STOP_LIMIT",
        "stopPrice": "10.25",
        "limitPrice": "10.28",
    },
    {"side": "SELL", "quantity": "5", "type": "TRAILING_STOP", "trailPrice": "0.20"},
    {"side": "BUY", "quantity": "5", "type": "STOP", "stopPrice": "10.40"},
    {"side": "BUY", "quantity": "5", "type": "LIMIT", "limitPrice": "9.00"},
]
SCENARIO_QUOTES = [  # (bid, ask, bid size, ask size)
    ("9.95", "10.00", "100", "100"),
    ("9.85", "9.90", "100", "4"),
    ("9.90", "9.95", "100", "3"),
    ("9.75", "9.80", "100", "30"),
    ("10.20", "10.25", "7", "100"),
    ("10.26", "10.28", "100", "100"),
    ("10.35", "10.40", "2", "100"),
    ("9.60", "9.65", "100", "100"),
]


async def trade_scenario(gql: GraphQLClient, admin: str, token: str, symbol: str) -> list[tuple]:
    """Places the scenario's orders on `symbol`, plays its quotes, and returns each order's
    outcome: status, filled quantity and fills (quantity, price)."""
    await create_instrument(gql, admin, symbol=symbol)
    pid = await funded_portfolio(gql, token, "100000")
    await publish_quote(gql, admin, bid="10.00", ask="10.10", symbol=symbol)
    await place(gql, token, pid, "BUY", "50", symbol=symbol)  # something to sell
    ids = [
        (
            await place(
                gql,
                token,
                pid,
                order.pop("side"),
                order.pop("quantity"),
                symbol=symbol,
                timeInForce="GTC",
                **order,
            )
        )["id"]
        for order in (dict(o) for o in SCENARIO_ORDERS)
    ]
    for bid, ask, bid_size, ask_size in SCENARIO_QUOTES:
        await publish_quote(
            gql, admin, bid=bid, ask=ask, symbol=symbol, bidSize=bid_size, askSize=ask_size
        )
    outcomes = []
    for order_id in ids:
        order = await Order.get(PydanticObjectId(order_id))
        assert order is not None
        fills = [(f.quantity, f.price) for f in order.fills]
        outcomes.append((order.status.value, order.filled_quantity, fills))
    return outcomes


async def test_matching_from_the_book_trades_exactly_what_the_store_query_trades(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    book = book_of(services)
    services.engine.book = None  # the engine as before: each quote queries the store
    try:
        from_store = await trade_scenario(gql, admin_token, token, "PETR4")
    finally:
        services.engine.book = book
    book.reload()
    from_book = await trade_scenario(gql, admin_token, token, "VALE3")
    assert book.loaded  # the second run matched from the book
    assert from_book == from_store
    statuses = {outcome[0] for outcome in from_store}
    assert {"FILLED", "PARTIALLY_FILLED", "NEW"} <= statuses  # the scenario exercises them
    assert any(len(fills) > 1 for _, _, fills in from_store)  # and fills an order twice
    await assert_book_is_the_store(services, "VALE3")
