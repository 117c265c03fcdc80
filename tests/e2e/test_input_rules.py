"""Hostile input and faults (issue 10): event values that would poison aggregates, decimals in
every form, clientOrderId reuse, formulas in CSV exports, and who may read /metrics."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from beanie import Document

from tests.e2e.conftest import register, server_settings, utc
from tests.support.clients import (
    GraphQLClient,
    connected,
    error_code,
    send_webhook,
    wait_for_subscribers,
)
from tests.support.trading import (
    PLACE_ORDER,
    create_instrument,
    dec,
    funded_portfolio,
    order_input,
    place,
    portfolio,
    quoted_portfolio,
)
from tradegraph.documents import ALL_DOCUMENTS, Event, Order, ResearchProcess
from tradegraph.pubsub.channels import order_channel
from tradegraph.server import RunningServer, start_server

# --- 1. event values that poison aggregates ---------------------------------------------------

INGEST = """mutation($input: EventInput!) { ingestEvent(input: $input) { id value } }"""
SUMMARY = """query($from: DateTime!, $to: DateTime!) {
  eventSummary(from: $from, to: $to, topN: 3) {
    totalEvents totalValue averageTicket
    byType { type count totalValue averageValue }
    topUsersByValue { userId totalValue }
    series(bucket: DAY) { start count totalValue }
  }
}"""


async def test_event_values_beyond_1e15_are_refused_by_webhook_and_ingest_event(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    for value in (1e308, -1e308, 1e15 * 1.000001):
        response = await send_webhook(
            http, [{"userId": "u1", "type": "purchase", "value": value}], f"msg_big_{value}"
        )
        assert response.status_code == 422, response.text
        body = response.json()["error"]
        assert body["code"] == "BAD_USER_INPUT"
        assert body["problems"] == [
            {"index": 0, "field": "value", "message": body["problems"][0]["message"]}
        ]
        assert "1e15" in body["problems"][0]["message"]

        error = await gql.error(
            INGEST, {"input": {"userId": "u1", "type": "purchase", "value": value}}, admin_token
        )
        assert error_code(error) == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == "value"
        assert "between -1e15 and 1e15" in error["message"]
    assert await Event.count() == 0

    limits = [{"userId": "u1", "type": "purchase", "value": v} for v in (1e15, -1e15)]
    assert (await send_webhook(http, limits, "msg_limits")).json()["stored"] == 2


async def test_summary_stays_finite_over_huge_values_stored_before_the_limit(
    gql: GraphQLClient, admin_token: str
) -> None:
    start = utc(2021, 3, 1)
    received = datetime.now(UTC)
    # Written straight to the store, as events accepted before the limit existed were.
    await Event.insert_many(
        [
            Event(
                user_id=f"u{n}",
                type="purchase",
                value=1e308,
                timestamp=start + timedelta(hours=n),
                idempotency_key=f"legacy-{n}",
                received_at=received,
            )
            for n in range(2)
        ]
    )
    variables = {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}
    result = (await gql.data(SUMMARY, variables, admin_token))["eventSummary"]

    # Each value counts as the 1e15 the ingestion rule allows: finite, and still the largest.
    assert result["totalEvents"] == 2
    assert result["totalValue"] == 2e15
    assert result["averageTicket"] == 1e15
    assert result["byType"] == [
        {"type": "purchase", "count": 2, "totalValue": 2e15, "averageValue": 1e15}
    ]
    assert [row["totalValue"] for row in result["topUsersByValue"]] == [1e15, 1e15]
    assert [point["totalValue"] for point in result["series"]] == [2e15, 0]


async def test_summary_sums_carry_no_binary_float_artefacts(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    start = utc(2021, 4, 1)
    events = [
        {"userId": "u1", "type": "purchase", "value": v, "timestamp": start.isoformat()}
        for v in (0.1, 0.2)
    ]
    assert (await send_webhook(http, events, "msg_artefacts")).json()["stored"] == 2
    variables = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    result = (await gql.data(SUMMARY, variables, admin_token))["eventSummary"]
    assert 0.1 + 0.2 != 0.3  # what the sums used to report
    assert result["totalValue"] == 0.3
    assert result["averageTicket"] == 0.15
    assert result["byType"][0]["totalValue"] == 0.3
    assert result["series"][0]["totalValue"] == 0.3


# --- 2. decimals ------------------------------------------------------------------------------

TOO_MANY_DIGITS = "1." + "0" * 33 + "1"  # 35 significant digits, value about 1
REFUSED_DECIMALS = {
    "1_000": "ASCII digits",
    "١٢": "ASCII digits",  # Arabic-Indic digits: Decimal() alone would take them
    "1e5": "ASCII digits",
    "1E-2": "ASCII digits",
    " 1": "ASCII digits",
    "1 ": "ASCII digits",
    "1 000": "ASCII digits",
    ".5": "ASCII digits",
    "5.": "ASCII digits",
    "+-1": "ASCII digits",
    "0x1A": "ASCII digits",
    "NaN": "ASCII digits",
    "Infinity": "ASCII digits",
    "": "ASCII digits",
    "1,5": "ASCII digits",
    "1" * 101: "too long",
    "1000000000000000000": "below 10^18",
    "-1000000000000000000.5": "below 10^18",
    TOO_MANY_DIGITS: "34 significant digits",
}
# Decimal inputs of the API: (document with {value} where the Decimal goes, admin-only).
DECIMAL_PLACES = {
    "deposit amount": (
        'mutation { deposit(portfolioId: "{pid}", amount: {value}) { cash } }',
        False,
    ),
    "PlaceOrderInput.quantity": (
        'mutation { placeOrder(input: {portfolioId: "{pid}", symbol: "PETR4", side: BUY, '
        "type: MARKET, quantity: {value}}) { id } }",
        False,
    ),
    "QuoteInput.bid": (
        'mutation { publishQuote(input: {symbol: "PETR4", bid: {value}, ask: "10"}) { bid } }',
        True,
    ),
    "importCandles open": (
        'mutation { importCandles(input: {symbol: "PETR4", interval: ONE_MINUTE, candles: '
        '[{start: "2026-01-05T13:00:00Z", open: {value}, high: "11", low: "9", close: "10"}]}) }',
        True,
    ),
    "InstrumentInput.tickSize": (
        'mutation { createInstrument(input: {symbol: "VALE3", name: "Vale", assetClass: STOCK, '
        'exchange: "B3", currency: "BRL", tickSize: {value}}) { symbol } }',
        True,
    ),
}


def document(template: str, pid: str, value: str) -> str:
    return template.replace("{pid}", pid).replace("{value}", value)


async def document_counts() -> dict[str, int]:
    """How many documents each collection holds that a request could have written (not the
    server's own heartbeat record, which it rewrites on a timer)."""
    counts = {}
    for kind in ALL_DOCUMENTS:
        assert issubclass(kind, Document)  # every kind listed is stored
        if kind is not ResearchProcess:
            counts[kind.__name__] = await kind.count()
    return counts


@pytest.mark.parametrize("place_name", list(DECIMAL_PLACES))
async def test_malformed_or_out_of_range_decimals_are_bad_user_input_as_literal_and_variable(
    gql: GraphQLClient, admin_token: str, trader: dict, place_name: str
) -> None:
    template, admin_only = DECIMAL_PLACES[place_name]
    token = admin_token if admin_only else trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, trader["accessToken"], "1000")
    counts_before = await document_counts()

    for text, reason in REFUSED_DECIMALS.items():
        literal = await gql.error(document(template, pid, json.dumps(text)), token=token)
        assert error_code(literal) == "BAD_USER_INPUT", (place_name, text, literal)
        assert reason in literal["message"], literal
        assert literal["message"].startswith("Expected value of type 'Decimal'"), literal

        declared = document(template, pid, "$v").replace("mutation {", "mutation($v: Decimal!) {")
        variable = await gql.error(declared, {"v": text}, token)
        assert error_code(variable) == "BAD_USER_INPUT", (place_name, text, variable)
        assert reason in variable["message"], variable
        assert variable["message"].startswith("Variable '$v' has invalid value"), variable

    # Numbers, not strings, in the document: read exactly as written, so still checked.
    for number, reason in (
        ("1e18", "below 10^18"),
        ("12345678901234567890", "below 10^18"),
        ("0.1000000000000000000000000000000000001", "34 significant digits"),
        ("true", "a Decimal is a string"),
    ):
        literal = await gql.error(document(template, pid, number), token=token)
        assert error_code(literal) == "BAD_USER_INPUT", (place_name, number, literal)
        assert reason in literal["message"], literal

    assert await document_counts() == counts_before
    assert dec((await portfolio(gql, trader["accessToken"], pid))["cash"]) == 1000


DEPOSIT_VARIABLE = 'mutation($v: Decimal!) { deposit(portfolioId: "{pid}", amount: $v) { cash } }'


async def raw_graphql(http: httpx.AsyncClient, token: str, body: str) -> httpx.Response:
    """A request body written by hand: JSON numbers exactly as a client's serializer wrote them."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    return await http.post("/graphql", content=body, headers=headers)


@pytest.fixture
async def uncapped() -> AsyncIterator[tuple[httpx.AsyncClient, GraphQLClient, str]]:
    """A server whose paper-cash cap (TRADEGRAPH_MAX_PORTFOLIO_CASH) is as high as amounts go,
    so the exactness tests can deposit numbers with more digits than a float holds; and a
    trader's token on it."""
    running = await start_server(server_settings(max_portfolio_cash=Decimal(10) ** 18))
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            gql = GraphQLClient(http)
            yield http, gql, (await register(gql, "exact@example.com"))["accessToken"]
    finally:
        await running.stop()


async def test_json_numbers_for_decimals_are_exact_or_refused_never_rounded(
    uncapped: tuple[httpx.AsyncClient, GraphQLClient, str],
) -> None:
    http, gql, token = uncapped
    pid = await funded_portfolio(gql, token, "0", currency="USDT")  # cash with 8 decimals
    query = json.dumps(DEPOSIT_VARIABLE.replace("{pid}", pid))

    # 40 digits: a float would silently keep 17 of them.
    response = await raw_graphql(
        http, token, f'{{"query": {query}, "variables": {{"v": 0.{"1" * 40}}}}}'
    )
    (error,) = response.json()["errors"]
    assert error_code(error) == "BAD_USER_INPUT"
    assert "34 significant digits" in error["message"]

    # 19 digits: more than a float holds: stored exactly as sent.
    response = await raw_graphql(
        http, token, f'{{"query": {query}, "variables": {{"v": 12345678901.12345678}}}}'
    )
    assert "errors" not in response.json(), response.text
    assert response.json()["data"]["deposit"]["cash"] == "12345678901.12345678"

    # A short JSON number is what it says (JSON.stringify writes 1e-7 for 0.0000001).
    response = await raw_graphql(http, token, f'{{"query": {query}, "variables": {{"v": 1e-7}}}}')
    assert dec(response.json()["data"]["deposit"]["cash"]) == dec("12345678901.12345688")

    # More decimals than the currency's cash has is refused, not rounded.
    response = await raw_graphql(
        http, token, f'{{"query": {query}, "variables": {{"v": 0.000000001}}}}'
    )
    (error,) = response.json()["errors"]
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "amount"

    # An integer beyond Python's int parsing limit is a bad request, not a server error.
    response = await raw_graphql(
        http, token, f'{{"query": {query}, "variables": {{"v": {"9" * 5000}}}}}'
    )
    assert response.status_code == 400, response.text


async def test_well_formed_decimals_are_taken_exactly(
    uncapped: tuple[httpx.AsyncClient, GraphQLClient, str],
) -> None:
    _, gql, token = uncapped
    for text in ("999999999999999999.5", "+0.25", "0007", "12345678901234567.89"):
        pid = await funded_portfolio(gql, token, "0")
        declared = DEPOSIT_VARIABLE.replace("{pid}", pid)
        cash = (await gql.data(declared, {"v": text}, token))["deposit"]["cash"]
        assert Decimal(cash) == Decimal(text), text


# --- 3. clientOrderId reused with other parameters --------------------------------------------


async def test_client_order_id_reused_with_other_parameters_is_a_conflict(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    first = await place(gql, token, pid, "BUY", "5", clientOrderId="k-1")

    other = order_input(pid, "BUY", "7", clientOrderId="k-1", type="LIMIT", limitPrice="9.00")
    error = await gql.error(PLACE_ORDER, {"input": other}, token)
    assert error_code(error) == "CONFLICT"
    assert error["extensions"]["fields"] == ["type", "quantity", "limitPrice"]
    assert "'k-1' was already used for a different order" in error["message"]
    assert "type, quantity, limitPrice" in error["message"]

    # The same parameters (5 written as 5.00) still return the first order, trading nothing.
    again = await place(gql, token, pid, "BUY", "5.00", clientOrderId="k-1")
    assert again["id"] == first["id"]
    assert await Order.count() == 1
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == 950
    assert dec(state["positions"][0]["quantity"]) == 5


async def test_concurrent_reuse_of_a_client_order_id_leaves_exactly_one_order(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "10000")
    for round_ in range(5):
        key = f"race-{round_}"
        inputs = [order_input(pid, "BUY", quantity, clientOrderId=key) for quantity in ("2", "3")]
        results = await asyncio.gather(
            *(gql.execute(PLACE_ORDER, {"input": one}, token) for one in inputs)
        )
        stored = await Order.find(Order.client_order_id == key).to_list()
        assert len(stored) == 1, results
        placed = [r["data"]["placeOrder"] for r in results if not r.get("errors")]
        refused = [r["errors"][0] for r in results if r.get("errors")]
        assert [p["id"] for p in placed] == [str(stored[0].id)], results
        assert [error_code(e) for e in refused] == ["CONFLICT"], results
    orders = await Order.find_all().to_list()
    bought = sum(order.filled_quantity for order in orders)
    assert dec((await portfolio(gql, token, pid))["cash"]) == 10000 - 10 * bought


# --- 4. CSV formula injection -----------------------------------------------------------------


async def test_csv_exports_neutralise_formulas_and_keep_negative_numbers_numeric(
    gql: GraphQLClient, http: httpx.AsyncClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", bid="20.00", ask="20.10")
    formula = '=HYPERLINK("http://x")'
    await place(gql, token, pid, "BUY", "3", clientOrderId=formula)
    await place(gql, token, pid, "SELL", "1", clientOrderId="@SUM(A1:A9)")  # at the bid, 20.00
    auth = {"authorization": f"Bearer {token}"}

    orders = (await http.get(f"/exports/portfolios/{pid}/orders.csv", headers=auth)).text
    ids = {row["client_order_id"] for row in csv.DictReader(io.StringIO(orders))}
    assert ids == {"'" + formula, "'@SUM(A1:A9)"}

    positions = (await http.get(f"/exports/portfolios/{pid}/positions.csv", headers=auth)).text
    (row,) = list(csv.DictReader(io.StringIO(positions)))
    assert row["realized_pnl"].startswith("-")  # a number, not "'-0.10"
    assert dec(row["realized_pnl"]) == dec("-0.10")  # 1 * (20.00 - 20.10)


# --- 5. /metrics ------------------------------------------------------------------------------

ORDER_UPDATES = """subscription($id: ID!) { orderUpdates(portfolioId: $id) { id } }"""
QUOTES = """subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol } }"""
KINDS = {
    "backtests",
    "events",
    "insights",
    "optimizations",
    "orderevents",
    "orders",
    "portfolios",
    "quotes",
    "widgetkeys",
}


def subscriber_gauges(metrics: str) -> dict[str, float]:
    found = re.findall(r"^tradegraph_subscribers\{(.*)\} (\S+)$", metrics, re.MULTILINE)
    gauges = {}
    for labels, value in found:
        label = re.fullmatch(r'kind="([a-z]+)"', labels)
        assert label is not None, labels  # one label, the kind
        (kind,) = label.groups()
        gauges[kind] = float(value)
    return gauges


async def test_metrics_label_kinds_of_channel_never_ids(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    portfolios = [await funded_portfolio(gql, token, "0") for _ in range(3)]
    client = await connected(server.url, token)
    try:
        for pid in portfolios:
            await client.subscribe(pid, ORDER_UPDATES, {"id": pid})
        await client.subscribe("q", QUOTES, {"symbols": ["PETR4"]})
        await wait_for_subscribers(http, order_channel(portfolios[0]), 3)
        metrics = (await http.get("/metrics")).text
    finally:
        await client.close()

    gauges = subscriber_gauges(metrics)
    assert set(gauges) == KINDS  # a fixed label set, however many portfolios are watched
    assert gauges["orders"] == 3
    assert gauges["quotes"] == 1
    for pid in portfolios:
        assert pid not in metrics
    assert "PETR4" not in metrics


@pytest.fixture
async def token_server() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(metrics_token="metrics-token-0123456789"))
    yield running
    await running.stop()


async def test_with_a_metrics_token_only_requests_carrying_it_are_answered(
    token_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=token_server.url) as http:  # loopback, too
        missing = await http.get("/metrics")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "UNAUTHENTICATED"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong_tokens = ("Bearer metrics-token-012345678", "Basic bWV0cmljcw==", "Bearer é")
        for wrong in wrong_tokens:
            refused = await http.get("/metrics", headers={b"authorization": wrong.encode()})
            assert refused.status_code == 401, wrong
            assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
        allowed = await http.get(
            "/metrics", headers={"authorization": "Bearer metrics-token-0123456789"}
        )
        assert allowed.status_code == 200
        assert "tradegraph_subscribers" in allowed.text


def non_loopback_address() -> str | None:
    """An address of this machine other than loopback: the source of its default route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: nothing is sent; only a route is chosen
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def test_without_a_token_metrics_answer_loopback_clients_only(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/metrics")).status_code == 200  # the session server, from 127.0.0.1
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to send from")
    for token in (None, "metrics-token-0123456789"):
        # Bound to the machine's own address: the server sees a non-loopback client.
        running = await start_server(server_settings(metrics_token=token), host=address)
        try:
            async with httpx.AsyncClient(base_url=running.url) as remote:
                response = await remote.get("/metrics")
                if token is None:
                    assert response.status_code == 403
                    assert response.json()["error"]["code"] == "FORBIDDEN"
                    assert "TRADEGRAPH_METRICS_TOKEN" in response.json()["error"]["message"]
                else:
                    assert response.status_code == 401
                    allowed = await remote.get(
                        "/metrics", headers={"authorization": f"Bearer {token}"}
                    )
                    assert allowed.status_code == 200
        finally:
            await running.stop()
