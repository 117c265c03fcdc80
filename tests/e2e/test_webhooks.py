"""POST /webhooks/events: Standard Webhooks signatures, validation, idempotent redelivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.clients import send_webhook, signed_headers
from tradegraph.documents import Event


def event(user: str = "u1", kind: str = "purchase", value: float = 40.0, **extra: object) -> dict:
    return {"userId": user, "type": kind, "value": value, **extra}


async def test_a_signed_batch_is_stored(http: httpx.AsyncClient) -> None:
    batch = [event("u1", "login", 0), event("u2", "purchase", 12.5, metadata={"sku": "A1"})]
    response = await send_webhook(http, batch, "msg_batch")
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 2, "stored": 2, "duplicates": 0}
    stored = await Event.find_all().sort("idempotency_key").to_list()
    assert [(e.user_id, e.type, e.value) for e in stored] == [
        ("u1", "login", 0),
        ("u2", "purchase", 12.5),
    ]
    assert stored[1].metadata == {"sku": "A1"}
    assert [e.idempotency_key for e in stored] == ["webhook:msg_batch:0", "webhook:msg_batch:1"]


async def test_a_single_event_object_is_accepted(http: httpx.AsyncClient) -> None:
    response = await send_webhook(http, event(timestamp="2026-01-02T03:04:05.678+02:00"), "msg_one")
    assert response.json()["stored"] == 1
    stored = await Event.find_one()
    assert stored is not None
    assert stored.timestamp == datetime(2026, 1, 2, 1, 4, 5, 678000, tzinfo=UTC)


async def test_redelivery_of_a_webhook_id_stores_nothing_new(http: httpx.AsyncClient) -> None:
    batch = [event("u1"), event("u2")]
    assert (await send_webhook(http, batch, "msg_retry")).json()["stored"] == 2
    again = await send_webhook(http, batch, "msg_retry")
    assert again.status_code == 200
    assert again.json() == {"received": 2, "stored": 0, "duplicates": 2}
    assert await Event.count() == 2


async def test_sender_idempotency_keys_deduplicate_across_webhooks(http: httpx.AsyncClient) -> None:
    await send_webhook(http, [event(idempotencyKey="order-77")], "msg_a")
    response = await send_webhook(http, [event(idempotencyKey="order-77"), event()], "msg_b")
    assert response.json() == {"received": 2, "stored": 1, "duplicates": 1}
    assert await Event.count() == 2


async def test_a_bad_signature_is_401_and_stores_nothing(http: httpx.AsyncClient) -> None:
    body = json.dumps([event()]).encode()
    headers = signed_headers(body, "msg_forged", secret="whsec_" + "A" * 44)
    response = await http.post("/webhooks/events", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    tampered = signed_headers(body, "msg_tampered")
    response = await http.post(
        "/webhooks/events", content=body.replace(b"40.0", b"99.0"), headers=tampered
    )
    assert response.status_code == 401
    garbage = {**tampered, "webhook-signature": "v1,not-base64!!"}
    assert (await http.post("/webhooks/events", content=body, headers=garbage)).status_code == 401
    assert await Event.count() == 0


async def test_missing_signature_headers_are_401(http: httpx.AsyncClient) -> None:
    response = await http.post("/webhooks/events", json=[event()])
    assert response.status_code == 401
    assert "webhook-signature" in response.json()["error"]["message"]
    assert await Event.count() == 0


async def test_stale_and_future_timestamps_are_rejected(http: httpx.AsyncClient) -> None:
    for offset in (timedelta(minutes=-6), timedelta(minutes=6)):
        response = await send_webhook(
            http, [event()], f"msg_time{offset}", sent_at=datetime.now(UTC) + offset
        )
        assert response.status_code == 400, response.text
        assert "webhook-timestamp" in response.json()["error"]["message"]
    assert await Event.count() == 0


async def test_malformed_json_is_400(http: httpx.AsyncClient) -> None:
    for body in (b'[{"userId": "u1",', b'[{"userId":"u","type":"t","value":NaN}]'):
        response = await http.post(
            "/webhooks/events", content=body, headers=signed_headers(body, "msg_bad_json")
        )
        assert response.status_code == 400, response.text
        assert "not valid JSON" in response.json()["error"]["message"]
    assert await Event.count() == 0


async def test_any_invalid_item_rejects_the_batch_listing_every_problem(
    http: httpx.AsyncClient,
) -> None:
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    batch = [
        event("u1"),  # valid, yet not stored: the batch is all or nothing
        {"userId": "u2", "type": "", "value": 1},
        {"userId": "u3", "type": "x" * 65, "value": "12"},
        {"userId": "u4", "type": "login", "value": 1, "timestamp": future},
        {"userId": "u5", "type": "login", "value": 1, "metadata": {"blob": "x" * 17_000}},
        {"type": "login", "value": 1, "colour": "red"},
        "not an object",
    ]
    response = await send_webhook(http, batch, "msg_invalid")
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    found = {(p["index"], p["field"]) for p in problems}
    assert found == {
        (1, "type"),
        (2, "type"),
        (2, "value"),
        (3, "timestamp"),
        (4, "metadata"),
        (5, "userId"),
        (5, "colour"),
        (6, None),
    }
    assert await Event.count() == 0


async def test_batches_over_1000_events_are_rejected(http: httpx.AsyncClient) -> None:
    response = await send_webhook(http, [event()] * 1001, "msg_huge")
    assert response.status_code == 422
    assert "at most 1000" in response.json()["error"]["message"]
    assert await Event.count() == 0


async def test_a_batch_of_1000_is_stored(http: httpx.AsyncClient) -> None:
    batch = [event(f"u{i % 7}", value=i) for i in range(1000)]
    response = await send_webhook(http, batch, "msg_full")
    assert response.json()["stored"] == 1000
    assert await Event.count() == 1000


async def test_timestamps_without_offset_or_naive_are_rejected(http: httpx.AsyncClient) -> None:
    response = await send_webhook(http, [event(timestamp="2026-01-01T00:00:00")], "msg_naive")
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["field"] == "timestamp"
