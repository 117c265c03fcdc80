"""POST /webhooks/events: Standard Webhooks signed event ingestion (one event or up to 1,000)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from tradegraph.errors import InvalidInput, NotAuthenticated
from tradegraph.events.validation import validate_batch
from tradegraph.events.webhooks import verify_webhook
from tradegraph.services import Services
from tradegraph.web.responses import error_response

log = structlog.get_logger(__name__)


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def receive_events(request: Request) -> Response:
    services: Services = request.app.state.services
    settings = services.settings
    try:
        body = await _read_body(request, settings.webhook_max_body_bytes)
    except BodyTooLarge:
        return error_response(
            413, "BAD_USER_INPUT", f"body exceeds {settings.webhook_max_body_bytes} bytes"
        )
    except ClientDisconnect:
        return Response(status_code=400)
    try:
        message = verify_webhook(
            settings.effective_webhook_secret,
            body,
            request.headers,
            timedelta(seconds=settings.webhook_tolerance_seconds),
        )
    except NotAuthenticated as error:
        return error_response(401, "UNAUTHENTICATED", error.message)
    except InvalidInput as error:
        return error_response(400, "BAD_USER_INPUT", error.message)
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except ValueError as error:
        return error_response(400, "BAD_USER_INPUT", f"body is not valid JSON: {error}")
    if not isinstance(payload, list | dict):
        return error_response(422, "BAD_USER_INPUT", "body must be an event object or an array")
    items = payload if isinstance(payload, list) else [payload]
    try:
        submissions = validate_batch(items)
    except InvalidInput as error:
        return error_response(422, "BAD_USER_INPUT", error.message, **error.details)
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
