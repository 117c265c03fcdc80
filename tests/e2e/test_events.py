"""Event listing, lookup, visibility and the ingestEvent mutation."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.clients import GraphQLClient, error_code, send_webhook
from tradegraph.documents import Event

EVENTS = """query($filter: EventFilter, $first: Int!, $after: String, $order: EventOrderBy!) {
  events(filter: $filter, first: $first, after: $after, orderBy: $order) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id userId type value timestamp metadata idempotencyKey receivedAt } }
  }
}"""
INGEST = """mutation($input: EventInput!) {
  ingestEvent(input: $input) { id userId type value timestamp metadata idempotencyKey }
}"""


async def seed(http: httpx.AsyncClient, count: int = 10, users: int = 2) -> None:
    batch = [
        {
            "userId": f"u{i % users}",
            "type": "purchase" if i % 2 else "login",
            "value": float(i),
            "timestamp": f"2026-03-01T00:{i:02d}:00Z",
        }
        for i in range(count)
    ]
    assert (await send_webhook(http, batch, f"seed-{count}-{users}")).json()["stored"] == count


async def page(
    gql: GraphQLClient,
    token: str,
    first: int = 20,
    after: str | None = None,
    order: str = "TIMESTAMP_DESC",
    **filter: object,
) -> dict:
    variables = {"filter": filter or None, "first": first, "after": after, "order": order}
    return (await gql.data(EVENTS, variables, token))["events"]


async def test_events_require_authentication(gql: GraphQLClient) -> None:
    error = await gql.error("{ events { totalCount } }")
    assert error_code(error) == "UNAUTHENTICATED"


async def test_events_are_newest_first_with_cursor_pages(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await seed(http, 10)
    seen, after = [], None
    for expected_next in (True, True, False):
        result = await page(gql, admin_token, first=4, after=after)
        assert result["totalCount"] == 10
        assert result["pageInfo"]["hasNextPage"] is expected_next
        seen += [edge["node"]["value"] for edge in result["edges"]]
        after = result["pageInfo"]["endCursor"]
    assert seen == [9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]


async def test_pages_are_stable_while_newer_events_arrive(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await seed(http, 6)
    first = await page(gql, admin_token, first=3)
    await send_webhook(
        http,
        [{"userId": "u9", "type": "login", "value": 100, "timestamp": "2026-03-02T00:00:00Z"}],
        "newer",
    )
    second = await page(gql, admin_token, first=3, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["value"] for e in second["edges"]] == [2.0, 1.0, 0.0]


async def test_equal_timestamps_are_neither_skipped_nor_repeated(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    same = [
        {"userId": "u", "type": "t", "value": i, "timestamp": "2026-03-01T00:00:00Z"}
        for i in range(7)
    ]
    await send_webhook(http, same, "same-time")
    ids, after = [], None
    while True:
        result = await page(gql, admin_token, first=2, after=after)
        ids += [edge["node"]["id"] for edge in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    assert len(ids) == len(set(ids)) == 7


async def test_filters_and_orders(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await seed(http, 10)
    purchases = await page(
        gql, admin_token, type="purchase", userId="u1", minValue=3, maxValue=7, order="VALUE_ASC"
    )
    assert [e["node"]["value"] for e in purchases["edges"]] == [3.0, 5.0, 7.0]
    assert purchases["totalCount"] == 3
    bounds: dict[str, Any] = {"from": "2026-03-01T00:02:00Z", "to": "2026-03-01T00:05:00Z"}
    window = await page(gql, admin_token, order="TIMESTAMP_ASC", **bounds)
    assert [e["node"]["value"] for e in window["edges"]] == [2.0, 3.0, 4.0]
    by_value = await page(gql, admin_token, first=3, order="VALUE_DESC")
    after = await page(
        gql, admin_token, first=3, order="VALUE_DESC", after=by_value["pageInfo"]["endCursor"]
    )
    assert [e["node"]["value"] for e in after["edges"]] == [6.0, 5.0, 4.0]


async def test_invalid_arguments_are_bad_user_input(gql: GraphQLClient, admin_token: str) -> None:
    variables = {"first": 501, "order": "TIMESTAMP_DESC"}
    too_many = await gql.error(EVENTS, variables, admin_token)
    assert error_code(too_many) == "BAD_USER_INPUT"
    assert "500" in too_many["message"]
    bad_cursor = await gql.error(
        EVENTS, {"first": 5, "after": "nonsense", "order": "TIMESTAMP_DESC"}, admin_token
    )
    assert error_code(bad_cursor) == "BAD_USER_INPUT"
    backwards = await gql.error(
        EVENTS,
        {
            "first": 5,
            "order": "TIMESTAMP_DESC",
            "filter": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        },
        admin_token,
    )
    assert error_code(backwards) == "BAD_USER_INPUT"
    wrong_type = await gql.error(EVENTS, {"first": "ten", "order": "TIMESTAMP_DESC"}, admin_token)
    assert error_code(wrong_type) == "BAD_USER_INPUT"


async def test_cursor_from_another_order_is_rejected(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await seed(http, 4)
    cursor = (await page(gql, admin_token, first=2))["pageInfo"]["endCursor"]
    error = await gql.error(
        EVENTS, {"first": 2, "after": cursor, "order": "VALUE_ASC"}, admin_token
    )
    assert error_code(error) == "BAD_USER_INPUT"
    assert "orderBy" in error["message"]


async def test_traders_see_only_their_own_events(
    http: httpx.AsyncClient, gql: GraphQLClient, trader: dict, analyst_token: str
) -> None:
    mine = trader["user"]["id"]
    await send_webhook(
        http,
        [
            {"userId": mine, "type": "deposit", "value": 5},
            {"userId": "someone-else", "type": "deposit", "value": 6},
        ],
        "mix",
    )
    own = await page(gql, trader["accessToken"])
    assert [e["node"]["userId"] for e in own["edges"]] == [mine]
    assert own["totalCount"] == 1
    assert (await page(gql, analyst_token))["totalCount"] == 2
    other = await gql.error(
        EVENTS,
        {"first": 5, "order": "TIMESTAMP_DESC", "filter": {"userId": "someone-else"}},
        trader["accessToken"],
    )
    assert error_code(other) == "FORBIDDEN"
    theirs = await Event.find_one(Event.user_id == "someone-else")
    assert theirs is not None
    hidden = theirs.id
    lookup = await gql.data(
        "query($id: ID!) { event(id: $id) { id } }", {"id": str(hidden)}, trader["accessToken"]
    )
    assert lookup["event"] is None


async def test_event_lookup_by_id(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await seed(http, 1)
    stored = await Event.find_one()
    assert stored is not None
    query = "query($id: ID!) { event(id: $id) { id userId value } }"
    found = await gql.data(query, {"id": str(stored.id)}, admin_token)
    assert found["event"] == {"id": str(stored.id), "userId": "u0", "value": 0.0}
    for unknown in ("000000000000000000000000", "not-an-id"):
        assert (await gql.data(query, {"id": unknown}, admin_token))["event"] is None


async def test_ingest_event_is_admin_only(
    gql: GraphQLClient, trader: dict, analyst_token: str
) -> None:
    for token in (trader["accessToken"], analyst_token):
        error = await gql.error(INGEST, {"input": {"userId": "u", "type": "t", "value": 1}}, token)
        assert error_code(error) == "FORBIDDEN"
    assert (
        error_code(await gql.error(INGEST, {"input": {"userId": "u", "type": "t", "value": 1}}))
        == "UNAUTHENTICATED"
    )
    assert await Event.count() == 0


async def test_ingest_event_stores_and_is_idempotent(gql: GraphQLClient, admin_token: str) -> None:
    event_input = {
        "userId": "u7",
        "type": "deposit",
        "value": 250.5,
        "metadata": {"via": "api"},
        "idempotencyKey": "dep-1",
        "timestamp": "2026-05-01T12:00:00Z",
    }
    first = (await gql.data(INGEST, {"input": event_input}, admin_token))["ingestEvent"]
    assert first["metadata"] == {"via": "api"}
    assert first["timestamp"] == "2026-05-01T12:00:00+00:00"
    again = await gql.data(INGEST, {"input": {**event_input, "value": 1}}, admin_token)
    assert again["ingestEvent"] == first
    assert await Event.count() == 1


async def test_ingest_event_validation_changes_nothing(
    gql: GraphQLClient, admin_token: str
) -> None:
    bad_inputs = [
        {"userId": "u", "type": "", "value": 1},
        {"userId": "u", "type": "t" * 65, "value": 1},
        {"userId": "u", "type": "t", "value": 1, "timestamp": "2099-01-01T00:00:00Z"},
        {"userId": "u", "type": "t", "value": 1, "metadata": {"big": "x" * 20_000}},
        {"userId": "u", "type": "t", "value": 1, "metadata": [1, 2]},
        {"userId": "u", "type": "t", "value": 1, "metadata": {"$where": "1"}},
    ]
    for bad in bad_inputs:
        error = await gql.error(INGEST, {"input": bad}, admin_token)
        assert error_code(error) == "BAD_USER_INPUT", (bad, error)
        assert error["extensions"]["problems"], error
    assert await Event.count() == 0
