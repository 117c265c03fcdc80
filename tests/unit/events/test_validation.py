"""events/validation.py: what an incoming event must look like, one at a time or in a batch;
every problem listed with its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradegraph.errors import InvalidInput
from tradegraph.events.validation import (
    MAX_BATCH_SIZE,
    MAX_METADATA_BYTES,
    MAX_TYPE_LENGTH,
    validate_batch,
    validate_submission,
)


def event(**fields: Any) -> dict[str, Any]:
    return {"userId": "user-1", "type": "purchase", "value": 12.5} | fields


def problems(data: Any) -> list[dict[str, Any]]:
    with pytest.raises(InvalidInput) as refused:
        validate_submission(data)
    return refused.value.details["problems"]


def fields(data: Any) -> list[str | None]:
    return [p["field"] for p in problems(data)]


def test_a_minimal_event_is_valid_with_empty_metadata_and_no_timestamp() -> None:
    valid = validate_submission(event())
    assert (valid.user_id, valid.type, valid.value) == ("user-1", "purchase", 12.5)
    assert valid.metadata == {}
    assert valid.timestamp is None
    assert valid.idempotency_key is None


def test_every_missing_required_field_is_listed() -> None:
    assert problems({}) == [
        {"field": "userId", "message": "Field required"},
        {"field": "type", "message": "Field required"},
        {"field": "value", "message": "Field required"},
    ]


@pytest.mark.parametrize("value", ["12.5", True, None, float("nan"), float("inf")])
def test_value_must_be_a_finite_json_number(value: Any) -> None:
    assert problems(event(value=value)) == [
        {"field": "value", "message": "must be a finite number"}
    ]


def test_an_integer_value_is_a_number() -> None:
    assert validate_submission(event(value=3)).value == 3.0


@pytest.mark.parametrize("value", [1e15 + 1, -1e16])
def test_values_beyond_10_to_the_15_are_refused(value: float) -> None:
    assert fields(event(value=value)) == ["value"]


@pytest.mark.parametrize("value", [1e15, -1e15])
def test_values_up_to_10_to_the_15_are_accepted(value: float) -> None:
    assert validate_submission(event(value=value)).value == value


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("userId", "   "),
        ("userId", "u" * 129),
        ("type", ""),
        ("type", "t" * (MAX_TYPE_LENGTH + 1)),
        ("idempotencyKey", " "),
        ("idempotencyKey", "k" * 201),
        ("userId", 42),
    ],
)
def test_strings_must_be_non_blank_and_within_their_length(field: str, bad: Any) -> None:
    assert fields(event(**{field: bad})) == [field]


def test_strings_are_stripped() -> None:
    valid = validate_submission(event(userId="  user-1 ", type=" purchase "))
    assert (valid.user_id, valid.type) == ("user-1", "purchase")


def test_unknown_fields_are_refused_by_name() -> None:
    assert problems(event(amount=3)) == [{"field": "amount", "message": "unknown field"}]


def test_a_timestamp_needs_an_offset_and_is_kept_in_utc() -> None:
    valid = validate_submission(event(timestamp="2024-03-01T09:00:00-03:00"))
    assert valid.timestamp == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert valid.timestamp.utcoffset() == timedelta(0)
    assert fields(event(timestamp="2024-03-01T09:00:00")) == ["timestamp"]


def test_a_timestamp_up_to_5_minutes_ahead_is_accepted_and_beyond_refused() -> None:
    now = datetime.now(UTC)
    validate_submission(event(timestamp=(now + timedelta(minutes=4)).isoformat()))
    assert problems(event(timestamp=(now + timedelta(minutes=6)).isoformat())) == [
        {"field": "timestamp", "message": "must be at most 5 minutes in the future"}
    ]


def test_metadata_up_to_16_kib_of_json_is_accepted_and_more_refused() -> None:
    overhead = len('{"note":""}')
    validate_submission(event(metadata={"note": "x" * (MAX_METADATA_BYTES - overhead)}))
    assert problems(event(metadata={"note": "x" * (MAX_METADATA_BYTES - overhead + 1)})) == [
        {"field": "metadata", "message": "must be at most 16384 bytes as JSON"}
    ]


@pytest.mark.parametrize(
    "metadata",
    [{"$where": 1}, {"a": {"$gt": 1}}, {"a": [{"b": 1}, {"$set": 2}]}],
)
def test_metadata_keys_may_not_start_with_a_dollar_at_any_depth(metadata: dict[str, Any]) -> None:
    assert fields(event(metadata=metadata)) == ["metadata"]


def test_metadata_may_not_hold_nan() -> None:
    assert problems(event(metadata={"score": float("nan")})) == [
        {"field": "metadata", "message": "must be JSON without NaN or Infinity"}
    ]


def test_a_batch_rejects_all_when_any_item_is_invalid_and_lists_each_by_index() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_batch([event(), event(value="x"), "not an object", event(userId="")])
    assert refused.value.details["problems"] == [
        {"index": 1, "field": "value", "message": "must be a finite number"},
        {"index": 2, "field": None, "message": "must be a JSON object"},
        {"index": 3, "field": "userId", "message": "String should have at least 1 character"},
    ]


def test_a_batch_must_hold_1_to_1000_events() -> None:
    assert len(validate_batch([event()] * MAX_BATCH_SIZE)) == MAX_BATCH_SIZE
    for items in ([], [event()] * (MAX_BATCH_SIZE + 1)):
        with pytest.raises(InvalidInput):
            validate_batch(items)
