"""Domain errors, raised anywhere below the schema and the web routes. error_codes.py maps each
class to its `extensions.code` and HTTP status, in one table."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected failure with a message a person can act on."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule; `details` may list every problem."""


class MalformedRequest(InvalidInput):
    """The request itself cannot be read: bad JSON, bad encoding, malformed headers."""


class PayloadTooLarge(InvalidInput):
    """The request body is over the size limit; nothing of it was processed."""


class NotAuthenticated(DomainError):
    """No valid credentials: missing or bad token, wrong password."""


class PermissionDenied(DomainError):
    """Authenticated, but the role does not allow this."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class AlreadyExists(DomainError):
    """A uniqueness rule would be broken, or the state does not allow the change."""


class TooManyRequests(DomainError):
    """The caller must wait before trying again."""


class InsufficientFunds(DomainError):
    """Not enough available cash (cash not reserved by open BUY orders)."""


class InsufficientPosition(DomainError):
    """Not enough of the instrument held and not already promised to open SELL orders."""


class SubscriberTooSlow(DomainError):
    """A live subscriber fell too far behind; it must subscribe again and catch up by query."""


class StreamInterrupted(DomainError):
    """The broker connection behind a live subscription was lost: messages may have been
    missed, so the client re-queries and subscribes again."""


class ServiceUnavailable(DomainError):
    """A dependency the request needs cannot be reached; nothing was done, try again soon."""
