"""The in-process MongoDB emulation: mongomock behind PyMongo's async API.

Zero services, data in memory only. It lacks $dateTrunc, transactions and change streams, so
the rest of the code sticks to operators both it and MongoDB >= 7 accept.
"""

from __future__ import annotations

from typing import Any

import mongomock.database
from pymongo_async_mock import AsyncMongoMockClient

_original_list_collection_names = mongomock.database.Database.list_collection_names


def _list_collection_names(
    self: mongomock.database.Database,
    filter: Any = None,
    session: Any = None,
    **_ignored: Any,  # Beanie passes authorizedCollections, which mongomock rejects
) -> list[str]:
    return _original_list_collection_names(self, filter=filter, session=session)


def emulated_client() -> AsyncMongoMockClient:
    mongomock.database.Database.list_collection_names = _list_collection_names  # type: ignore[method-assign]
    return AsyncMongoMockClient(tz_aware=True)
