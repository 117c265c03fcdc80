"""Standard Webhooks verification (https://www.standardwebhooks.com): signature and freshness."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from tradegraph.errors import MalformedRequest, NotAuthenticated


class StaleWebhook(MalformedRequest):
    """The webhook-timestamp is outside the tolerance: a replay, or a badly wrong clock."""


@dataclass(frozen=True)
class WebhookMessage:
    id: str
    timestamp: datetime


def verify_webhook(
    secret: str, body: bytes, headers: Mapping[str, str], tolerance: timedelta
) -> WebhookMessage:
    """Checks headers, timestamp and signature; raises NotAuthenticated or StaleWebhook."""
    message_id = headers.get("webhook-id", "").strip()
    raw_timestamp = headers.get("webhook-timestamp", "").strip()
    signature = headers.get("webhook-signature", "").strip()
    if not (message_id and raw_timestamp and signature):
        raise NotAuthenticated("missing webhook-id, webhook-timestamp or webhook-signature header")
    if len(message_id) > 200:
        raise MalformedRequest("webhook-id must be at most 200 characters", field="webhook-id")
    try:
        sent_at = datetime.fromtimestamp(int(raw_timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise MalformedRequest(
            "webhook-timestamp must be whole seconds since the Unix epoch",
            field="webhook-timestamp",
        ) from error
    now = datetime.now(UTC)
    if abs(now - sent_at) > tolerance:
        raise StaleWebhook(
            f"webhook-timestamp {raw_timestamp} is more than {int(tolerance.total_seconds())} "
            f"seconds from the server's clock ({int(now.timestamp())}); sign again with the "
            "current time",
            field="webhook-timestamp",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRequest("the body must be UTF-8 encoded JSON", field="body") from error
    expected = Webhook(secret).sign(msg_id=message_id, timestamp=sent_at, data=text)
    # Several space-separated signatures may be sent while a sender rotates secrets.
    if not any(hmac.compare_digest(candidate, expected) for candidate in signature.split()):
        raise NotAuthenticated(
            "webhook signature does not match: sign '{webhook-id}.{webhook-timestamp}.{body}' "
            "with HMAC-SHA256 and send 'v1,<base64 signature>'"
        )
    return WebhookMessage(id=message_id, timestamp=sent_at)
