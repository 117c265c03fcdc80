"""The rules every incoming event obeys, whichever way it arrives (webhook or mutation)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from tradegraph.errors import InvalidInput

MAX_TYPE_LENGTH = 64
MAX_METADATA_BYTES = 16 * 1024
MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_BATCH_SIZE = 1000
# Far beyond any real amount; keeps every sum, average and series of events finite.
MAX_ABS_VALUE = 1e15

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class EventSubmission(BaseModel):
    """One event as a sender submits it (camelCase, unknown fields refused)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: Annotated[NonEmpty, StringConstraints(max_length=128)] = Field(alias="userId")
    type: Annotated[NonEmpty, StringConstraints(max_length=MAX_TYPE_LENGTH)]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    timestamp: AwareDatetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: Annotated[NonEmpty, StringConstraints(max_length=200)] | None = Field(
        default=None, alias="idempotencyKey"
    )

    @field_validator("value")
    @classmethod
    def _value_in_range(cls, value: float) -> float:
        if abs(value) > MAX_ABS_VALUE:
            raise ValueError(f"must be between -1e15 and 1e15 (got {value!r})")
        return value

    @field_validator("timestamp")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        if value > datetime.now(UTC) + MAX_FUTURE_SKEW:
            raise ValueError("must be at most 5 minutes in the future")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            encoded = json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
        except ValueError as error:
            raise ValueError("must be JSON without NaN or Infinity") from error
        if len(encoded) > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
        if bad := _dollar_key(value):
            raise ValueError(f"keys may not start with '$' (found {bad!r})")
        return value


def _dollar_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).startswith("$"):
                return str(key)
            if found := _dollar_key(item):
                return found
    elif isinstance(value, list):
        for item in value:
            if found := _dollar_key(item):
                return found
    return None


def _problems(error: ValidationError, index: int | None) -> list[dict[str, Any]]:
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or None
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "float_type" or (item["type"] == "finite_number"):
            message = "must be a finite number"
        problem: dict[str, Any] = {"field": field, "message": message}
        if index is not None:
            problem = {"index": index, **problem}
        problems.append(problem)
    return problems


def validate_submission(data: Any) -> EventSubmission:
    """Validates one event; InvalidInput names the first field at fault and lists every
    problem."""
    try:
        return EventSubmission.model_validate(data)
    except ValidationError as error:
        problems = _problems(error, None)
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise InvalidInput(
            f"invalid event: {summary}", field=problems[0]["field"], problems=problems
        ) from error


def validate_batch(items: list[Any]) -> list[EventSubmission]:
    """Validates a batch; any invalid item rejects all of them, listing every problem."""
    if not items:
        raise InvalidInput("the batch is empty", problems=[{"field": None, "message": "empty"}])
    if len(items) > MAX_BATCH_SIZE:
        raise InvalidInput(
            f"at most {MAX_BATCH_SIZE} events per request, got {len(items)}",
            problems=[{"field": None, "message": f"more than {MAX_BATCH_SIZE} events"}],
        )
    valid: list[EventSubmission] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append({"index": index, "field": None, "message": "must be a JSON object"})
            continue
        try:
            valid.append(EventSubmission.model_validate(item))
        except ValidationError as error:
            problems.extend(_problems(error, index))
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) in the batch", problems=problems)
    return valid


def submission_of(
    user_id: str,
    type: str,
    value: float,
    timestamp: datetime | None,
    metadata: object,
    idempotency_key: str | None,
) -> EventSubmission:
    """An event given field by field (the ingestEvent mutation), checked by the webhook's rules."""
    return validate_submission(
        {
            "userId": user_id,
            "type": type,
            "value": value,
            "timestamp": timestamp,
            "metadata": metadata if metadata is not None else {},
            "idempotencyKey": idempotency_key,
        }
    )
