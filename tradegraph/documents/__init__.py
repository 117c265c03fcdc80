"""Beanie documents, one module per domain. No schema or HTTP imports here."""

from tradegraph.documents.events import Event
from tradegraph.documents.users import RefreshToken, Role, User

ALL_DOCUMENTS: list[type] = [User, RefreshToken, Event]

__all__ = ["ALL_DOCUMENTS", "Event", "RefreshToken", "Role", "User"]
