"""events/webhooks.py: Standard Webhooks verification (signed with the `standardwebhooks`
package, as a sender would): headers, freshness, signature."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from tradegraph.errors import InvalidInput, MalformedRequest, NotAuthenticated
from tradegraph.events.webhook_signatures import StaleWebhook, WebhookMessage, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"unit-test-webhook-secret-32bytes").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-webhook-secret-32-bytes!").decode()
TOLERANCE = timedelta(minutes=5)
BODY = b'[{"userId": "user-1", "type": "purchase", "value": 12.5}]'


def signed(
    body: bytes = BODY,
    message_id: str = "msg_1",
    sent_at: datetime | None = None,
    secret: str = SECRET,
) -> dict[str, str]:
    sent_at = sent_at or datetime.now(UTC).replace(microsecond=0)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body.decode()),
    }


def test_a_correctly_signed_fresh_message_is_accepted() -> None:
    sent_at = datetime.now(UTC).replace(microsecond=0)
    message = verify_webhook(SECRET, BODY, signed(sent_at=sent_at), TOLERANCE)
    assert message == WebhookMessage(id="msg_1", timestamp=sent_at)


def test_one_valid_signature_among_several_is_enough_while_secrets_rotate() -> None:
    headers = signed()
    old = signed(secret=OTHER_SECRET)["webhook-signature"]
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert verify_webhook(SECRET, BODY, headers, TOLERANCE).id == "msg_1"


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(NotAuthenticated, match="signature does not match"):
        verify_webhook(SECRET, BODY, signed(secret=OTHER_SECRET), TOLERANCE)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-id", "msg_2"),  # the signature covers the id
        ("webhook-signature", "v1,AAAA"),
        ("webhook-signature", "v2," + "A" * 44),
    ],
)
def test_a_changed_id_or_a_forged_signature_is_refused(header: str, value: str) -> None:
    headers = signed() | {header: value}
    with pytest.raises(NotAuthenticated):
        verify_webhook(SECRET, BODY, headers, TOLERANCE)


def test_a_body_changed_after_signing_is_refused() -> None:
    with pytest.raises(NotAuthenticated):
        verify_webhook(SECRET, BODY.replace(b"12.5", b"99.5"), signed(), TOLERANCE)


def test_a_timestamp_changed_after_signing_is_refused() -> None:
    headers = signed()
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(NotAuthenticated):
        verify_webhook(SECRET, BODY, headers, TOLERANCE)


@pytest.mark.parametrize("offset", [-TOLERANCE - timedelta(seconds=5), TOLERANCE * 2])
def test_a_timestamp_outside_the_tolerance_is_stale_even_when_signed(offset: timedelta) -> None:
    headers = signed(sent_at=datetime.now(UTC).replace(microsecond=0) + offset)
    with pytest.raises(StaleWebhook) as refused:
        verify_webhook(SECRET, BODY, headers, TOLERANCE)
    assert refused.value.details == {"field": "webhook-timestamp"}
    assert isinstance(refused.value, InvalidInput)


def test_a_timestamp_just_inside_the_tolerance_is_accepted() -> None:
    sent_at = datetime.now(UTC).replace(microsecond=0) - TOLERANCE + timedelta(seconds=5)
    verify_webhook(SECRET, BODY, signed(sent_at=sent_at), TOLERANCE)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_or_blank_header_is_not_authenticated(missing: str) -> None:
    without = {k: v for k, v in signed().items() if k != missing}
    blank = signed() | {missing: "   "}
    for headers in (without, blank):
        with pytest.raises(NotAuthenticated, match="missing webhook-id"):
            verify_webhook(SECRET, BODY, headers, TOLERANCE)


@pytest.mark.parametrize("timestamp", ["yesterday", "1.7e9", "99999999999999999999"])
def test_a_timestamp_that_is_not_whole_epoch_seconds_is_invalid(timestamp: str) -> None:
    headers = signed() | {"webhook-timestamp": timestamp}
    with pytest.raises(InvalidInput) as refused:
        verify_webhook(SECRET, BODY, headers, TOLERANCE)
    assert type(refused.value) is MalformedRequest  # malformed, not merely stale
    assert refused.value.details == {"field": "webhook-timestamp"}


def test_a_message_id_over_200_characters_is_invalid() -> None:
    with pytest.raises(InvalidInput) as refused:
        verify_webhook(SECRET, BODY, signed(message_id="m" * 201), TOLERANCE)
    assert refused.value.details == {"field": "webhook-id"}


def test_a_body_that_is_not_utf8_is_invalid() -> None:
    body = b"\xff\xfe"
    headers = signed(body=b"x")
    with pytest.raises(InvalidInput) as refused:
        verify_webhook(SECRET, body, headers, TOLERANCE)
    assert refused.value.details == {"field": "body"}
