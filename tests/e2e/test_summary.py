"""eventSummary: totals, average ticket, by type, top users and the chart series."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

import httpx
import pytest

from tests.e2e.conftest import utc
from tests.support.clients import GraphQLClient, error_code, send_webhook

SUMMARY = """query($from: DateTime!, $to: DateTime!, $topN: Int!, $bucket: TimeBucket!) {
  eventSummary(from: $from, to: $to, topN: $topN) {
    totalEvents totalValue averageTicket
    byType { type count totalValue averageValue }
    topUsersByValue { userId count totalValue }
    topUsersByCount { userId count totalValue }
    series(bucket: $bucket) { start count totalValue }
  }
}"""
START = utc(2026, 4, 1)


def sample_events(count: int = 300) -> list[dict]:
    rng = random.Random(42)
    return [
        {
            "userId": f"u{rng.randrange(8)}",
            "type": rng.choice(["purchase", "login", "deposit"]),
            "value": round(rng.uniform(1, 100), 2),
            "timestamp": (START + timedelta(minutes=rng.randrange(3 * 24 * 60))).isoformat(),
        }
        for _ in range(count)
    ]


async def summary(
    gql: GraphQLClient, token: str, frm: str, to: str, top_n: int = 3, bucket: str = "DAY"
) -> dict:
    variables = {"from": frm, "to": to, "topN": top_n, "bucket": bucket}
    return (await gql.data(SUMMARY, variables, token))["eventSummary"]


async def test_summary_matches_an_independent_computation(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    events = sample_events()
    outside = {
        "userId": "u0",
        "type": "purchase",
        "value": 1e6,
        "timestamp": (START + timedelta(days=5)).isoformat(),
    }
    assert (await send_webhook(http, [*events, outside], "summary")).json()["stored"] == 301
    result = await summary(
        gql, admin_token, START.isoformat(), (START + timedelta(days=3)).isoformat()
    )

    assert result["totalEvents"] == 300
    assert result["totalValue"] == pytest.approx(sum(e["value"] for e in events))
    purchases = [e["value"] for e in events if e["type"] == "purchase"]
    assert result["averageTicket"] == pytest.approx(sum(purchases) / len(purchases))

    counts = Counter(e["type"] for e in events)
    assert [row["type"] for row in result["byType"]] == [t for t, _ in counts.most_common()]
    for row in result["byType"]:
        values = [e["value"] for e in events if e["type"] == row["type"]]
        assert row["count"] == len(values)
        assert row["averageValue"] == pytest.approx(sum(values) / len(values))

    per_user: dict[str, list[float]] = defaultdict(list)
    for e in events:
        per_user[e["userId"]].append(e["value"])
    by_value = sorted(per_user, key=lambda u: -sum(per_user[u]))[:3]
    assert [row["userId"] for row in result["topUsersByValue"]] == by_value
    by_count = sorted(per_user, key=lambda u: (-len(per_user[u]), -sum(per_user[u])))[:3]
    assert [row["userId"] for row in result["topUsersByCount"]] == by_count

    days = [(START + timedelta(days=d)).isoformat() for d in range(3)]
    assert [point["start"] for point in result["series"]] == days
    assert sum(point["count"] for point in result["series"]) == 300


async def test_series_fills_empty_buckets(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    at = [START + timedelta(minutes=m) for m in (0, 0, 2, 61)]
    batch = [{"userId": "u", "type": "login", "value": 1, "timestamp": t.isoformat()} for t in at]
    await send_webhook(http, batch, "series")
    minutes = await summary(
        gql,
        admin_token,
        START.isoformat(),
        (START + timedelta(minutes=4)).isoformat(),
        bucket="MINUTE",
    )
    assert [p["count"] for p in minutes["series"]] == [2, 0, 1, 0]
    hours = await summary(
        gql, admin_token, START.isoformat(), (START + timedelta(hours=2)).isoformat(), bucket="HOUR"
    )
    assert [(p["start"], p["count"]) for p in hours["series"]] == [
        (START.isoformat(), 3),
        ((START + timedelta(hours=1)).isoformat(), 1),
    ]


async def test_empty_range_has_no_average_ticket(gql: GraphQLClient, admin_token: str) -> None:
    result = await summary(
        gql, admin_token, START.isoformat(), (START + timedelta(hours=1)).isoformat(), bucket="HOUR"
    )
    assert result["totalEvents"] == 0
    assert result["averageTicket"] is None
    assert result["byType"] == []
    assert result["series"] == [{"start": START.isoformat(), "count": 0, "totalValue": 0.0}]


async def test_summary_is_scoped_to_the_trader(
    http: httpx.AsyncClient, gql: GraphQLClient, trader: dict
) -> None:
    mine = trader["user"]["id"]
    await send_webhook(
        http,
        [
            {"userId": mine, "type": "purchase", "value": 10, "timestamp": START.isoformat()},
            {"userId": "other", "type": "purchase", "value": 90, "timestamp": START.isoformat()},
        ],
        "scoped",
    )
    result = await summary(
        gql, trader["accessToken"], START.isoformat(), (START + timedelta(days=1)).isoformat()
    )
    assert result["totalEvents"] == 1
    assert [row["userId"] for row in result["topUsersByValue"]] == [mine]


async def test_summary_rejects_bad_arguments(gql: GraphQLClient, admin_token: str) -> None:
    variables = {"from": START.isoformat(), "to": START.isoformat(), "topN": 3, "bucket": "DAY"}
    assert error_code(await gql.error(SUMMARY, variables, admin_token)) == "BAD_USER_INPUT"
    variables["to"] = (START + timedelta(days=1)).isoformat()
    variables["topN"] = 0
    assert error_code(await gql.error(SUMMARY, variables, admin_token)) == "BAD_USER_INPUT"
    variables.update(topN=3, bucket="MINUTE", to=(START + timedelta(days=365)).isoformat())
    body = await gql.execute(SUMMARY, variables, admin_token)
    assert error_code(body["errors"][0]) == "BAD_USER_INPUT"
    assert "larger bucket" in body["errors"][0]["message"]


async def test_summary_sees_new_events_from_this_process_at_once(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    window = (START.isoformat(), (START + timedelta(days=1)).isoformat())
    assert (await summary(gql, admin_token, *window))["totalEvents"] == 0
    await send_webhook(
        http,
        [{"userId": "u", "type": "login", "value": 0, "timestamp": START.isoformat()}],
        "fresh",
    )
    assert (await summary(gql, admin_token, *window))["totalEvents"] == 1
