"""POST /webhooks/events: Standard Webhooks signed event ingestion (one event or up to 1,000).
The signature check lives in events/webhook_signatures.py; errors become JSON in web/errors.py."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from tradegraph.errors import InvalidInput, MalformedRequest, PayloadTooLarge
from tradegraph.events.validation import validate_batch
from tradegraph.events.webhook_signatures import verify_webhook
from tradegraph.services import Services

log = structlog.get_logger(__name__)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` bytes."""
    too_large = PayloadTooLarge(f"body exceeds {limit} bytes; send fewer events per request")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect as error:
        raise MalformedRequest("the client disconnected before the body was complete") from error
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse(body: bytes) -> list[Any]:
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise MalformedRequest(f"body is not valid JSON: {error}") from error
    if not isinstance(payload, list | dict):
        raise InvalidInput("body must be an event object or an array")
    return payload if isinstance(payload, list) else [payload]


async def receive_events(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    settings = services.settings
    body = await _read_body(request, settings.webhook_max_body_bytes)
    message = verify_webhook(
        settings.effective_webhook_secret,
        body,
        request.headers,
        timedelta(seconds=settings.webhook_tolerance_seconds),
    )
    items = _parse(body)
    submissions = validate_batch(items)
    result = await services.events.ingest(submissions, key_prefix=f"webhook:{message.id}")
    log.info(
        "webhook processed",
        webhook_id=message.id,
        received=len(items),
        stored=len(result.stored),
        duplicates=result.duplicates,
    )
    return JSONResponse(
        {"received": len(items), "stored": len(result.stored), "duplicates": result.duplicates}
    )
