"""Resumable feeds end to end: orderEvents and eventCreated replay what was stored after a
cursor, then continue live, with no gap and no duplicate at the seam; a message the broker
lost still arrives from the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from beanie import PydanticObjectId

from tests.e2e.conftest import register
from tests.support.clients import (
    GraphQLClient,
    TransportWS,
    connected,
    error_code,
    wait_for_subscribers,
)
from tests.support.trading import (
    CANCEL_ORDER,
    dec,
    funded_portfolio,
    place,
    quoted_portfolio,
)
from tradegraph.documents import Order, OrderEventKind, OrderEventRecord
from tradegraph.pubsub.channels import EVENTS_CREATED, order_events_channel
from tradegraph.sequences import take_numbers
from tradegraph.server import RunningServer
from tradegraph.services import Services
from tradegraph.trading.settlement import recover

ORDER_EVENTS = """subscription($id: ID!, $after: String) {
  orderEvents(portfolioId: $id, after: $after) {
    cursor kind order { id status filledQuantity } fill { quantity price fee } timestamp
  }
}"""
EVENTS = """subscription($after: String, $filter: EventFilter) {
  eventCreated(after: $after, filter: $filter) { cursor userId type value }
}"""
INGEST = """mutation($input: EventInput!) { ingestEvent(input: $input) { cursor userId } }"""


async def next_data(client: TransportWS, operation: str, field: str) -> dict[str, Any]:
    message = await client.receive()
    assert message["id"] == operation, message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"][field]
    return data


async def resting(gql: GraphQLClient, token: str, pid: str, limit: str = "5.00") -> dict:
    return await place(
        gql, token, pid, "BUY", "1", type="LIMIT", limitPrice=limit, timeInForce="GTC"
    )


async def test_order_events_one_per_change_then_resume_after_a_cursor(
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    admin_token: str,
    trader: dict,
    server: RunningServer,
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    client = await connected(server.url, token)
    await client.subscribe("live", ORDER_EVENTS, {"id": pid})
    await wait_for_subscribers(http, order_events_channel(pid), 1)

    first = await resting(gql, token, pid)
    await gql.data(CANCEL_ORDER, {"id": first["id"]}, token)
    bought = await place(gql, token, pid, "BUY", "2")
    seen = [await next_data(client, "live", "orderEvents") for _ in range(4)]
    assert [(e["kind"], e["order"]["id"]) for e in seen] == [
        ("NEW", first["id"]),
        ("CANCELED", first["id"]),
        ("NEW", bought["id"]),
        ("FILL", bought["id"]),
    ]
    fill = seen[3]["fill"]
    assert (dec(fill["quantity"]), fill["price"], fill["fee"]) == (2, "10.00", "0.00")  # tick, BRL
    assert seen[0]["fill"] is None
    cursors = [e["cursor"] for e in seen]
    assert len(set(cursors)) == 4
    await client.close()  # the client goes away; the desk goes on

    second = await resting(gql, token, pid)
    replacement = await gql.data(
        """mutation($id: ID!) { replaceOrder(id: $id, input: {limitPrice: "6.00"}) { id } }""",
        {"id": second["id"]},
        token,
    )
    client = await connected(server.url, token)
    await client.subscribe("again", ORDER_EVENTS, {"id": pid, "after": cursors[1]})
    replayed = [await next_data(client, "again", "orderEvents") for _ in range(5)]
    assert [(e["kind"], e["order"]["id"]) for e in replayed] == [
        ("NEW", bought["id"]),
        ("FILL", bought["id"]),
        ("NEW", second["id"]),
        ("REPLACED", second["id"]),
        ("NEW", replacement["replaceOrder"]["id"]),
    ]
    assert [e["cursor"] for e in replayed[:2]] == cursors[2:]
    await gql.data(CANCEL_ORDER, {"id": replacement["replaceOrder"]["id"]}, token)
    live = await next_data(client, "again", "orderEvents")  # then live, after the replay
    assert (live["kind"], live["order"]["status"]) == ("CANCELED", "CANCELED")
    await client.close()


async def test_resuming_while_orders_change_has_no_gap_and_no_duplicate(
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    admin_token: str,
    trader: dict,
    server: RunningServer,
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    client = await connected(server.url, token)
    await client.subscribe("start", ORDER_EVENTS, {"id": pid})
    await wait_for_subscribers(http, order_events_channel(pid), 1)
    await resting(gql, token, pid)
    start = await next_data(client, "start", "orderEvents")
    await client.close()

    async def churn() -> None:  # 20 more events while the client reconnects
        for _ in range(10):
            order = await resting(gql, token, pid)
            await gql.data(CANCEL_ORDER, {"id": order["id"]}, token)

    producer = asyncio.create_task(churn())
    await asyncio.sleep(0)  # let the churn begin before the reconnection: the seam is inside it
    client = await connected(server.url, token)
    await client.subscribe("resume", ORDER_EVENTS, {"id": pid, "after": start["cursor"]})
    got = [await next_data(client, "resume", "orderEvents") for _ in range(20)]
    await producer
    cursors = [int(e["cursor"]) for e in got]
    assert cursors == list(range(int(start["cursor"]) + 1, int(start["cursor"]) + 21))
    assert [e["kind"] for e in got] == ["NEW", "CANCELED"] * 10
    await client.close()


async def test_an_event_the_broker_never_carried_arrives_from_the_store(
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    admin_token: str,
    trader: dict,
    server: RunningServer,
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    order = await resting(gql, token, pid)
    client = await connected(server.url, token)
    await client.subscribe("r", ORDER_EVENTS, {"id": pid, "after": "0"})
    assert (await next_data(client, "r", "orderEvents"))["kind"] == "NEW"  # replayed
    await wait_for_subscribers(http, order_events_channel(pid), 1)

    stored = await Order.get(order["id"])
    assert stored is not None
    seq = await take_numbers(f"orders:{pid}", 1)  # a change stored, its message lost
    await OrderEventRecord(
        portfolio_id=stored.portfolio_id,
        seq=seq,
        key=f"{stored.id}:CANCELED",
        kind=OrderEventKind.CANCELED,
        order=stored.model_dump(mode="json"),
        timestamp=datetime.now(UTC),
    ).insert()
    lost = await next_data(client, "r", "orderEvents")
    assert (lost["cursor"], lost["kind"]) == (str(seq), "CANCELED")
    await client.close()


async def test_order_events_are_private_and_cursors_must_be_ours(
    gql: GraphQLClient, admin_token: str, trader: dict, server: RunningServer
) -> None:
    token = trader["accessToken"]
    pid = await funded_portfolio(gql, token, "1000")
    stranger = (await register(gql, "feeds-stranger@example.com"))["accessToken"]
    for caller, variables, code in (
        (stranger, {"id": pid}, "NOT_FOUND"),
        (token, {"id": pid, "after": "abc"}, "BAD_USER_INPUT"),
        (token, {"id": pid, "after": "7"}, "BAD_USER_INPUT"),  # beyond any cursor sent
    ):
        client = await connected(server.url, caller)
        await client.subscribe("x", ORDER_EVENTS, variables)
        message = await client.receive()
        assert error_code(message["payload"]["errors"][0]) == code
        await client.close()


async def test_event_created_resumes_after_a_cursor_with_the_callers_visibility(
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    admin_token: str,
    trader: dict,
    server: RunningServer,
) -> None:
    me = (await gql.data("query { me { id } }", {}, trader["accessToken"]))["me"]["id"]

    async def ingest(user: str, value: float) -> dict:
        variables = {"input": {"userId": user, "type": "login", "value": value}}
        return (await gql.data(INGEST, variables, admin_token))["ingestEvent"]

    first = await ingest(me, 1)
    await ingest("someone-else", 2)
    await ingest(me, 3)
    client = await connected(server.url, trader["accessToken"])
    await client.subscribe("e", EVENTS, {"after": first["cursor"]})
    replayed = await next_data(client, "e", "eventCreated")
    assert (replayed["userId"], replayed["value"]) == (me, 3.0)  # not someone else's
    await wait_for_subscribers(http, EVENTS_CREATED, 1)
    await ingest("someone-else", 4)
    live = await ingest(me, 5)
    received = await next_data(client, "e", "eventCreated")
    assert (received["cursor"], received["value"]) == (live["cursor"], 5.0)
    assert int(received["cursor"]) > int(replayed["cursor"]) > int(first["cursor"])
    await client.close()


async def test_a_change_whose_events_a_crash_left_unrecorded_is_recorded_by_recovery(
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    services: Services,
    admin_token: str,
    trader: dict,
    server: RunningServer,
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    placed = await resting(gql, token, pid)
    client = await connected(server.url, token)
    await client.subscribe("r", ORDER_EVENTS, {"id": pid, "after": "0"})
    new = await next_data(client, "r", "orderEvents")
    assert new["kind"] == "NEW"

    order = await Order.get(PydanticObjectId(placed["id"]))
    assert order is not None
    execution = services.engine.execution
    journaled = await execution.journal_fill(order, Decimal(1), Decimal("5.00"), 2)  # then died
    assert journaled is not None
    later = datetime.now(UTC) + timedelta(minutes=5)
    await recover(now=later)  # settles the fill
    assert await execution.order_events.recover(now=later) == 1
    assert await execution.order_events.recover(now=later) == 0  # recorded once
    filled = await next_data(client, "r", "orderEvents")
    assert (filled["kind"], filled["order"]["status"]) == ("FILL", "FILLED")
    assert int(filled["cursor"]) == int(new["cursor"]) + 1
    await client.close()
