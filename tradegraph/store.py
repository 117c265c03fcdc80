"""Opens the MongoDB store: a real server, or the in-process emulation; initialises Beanie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beanie import init_beanie
from pymongo import AsyncMongoClient

from tradegraph.config import Settings
from tradegraph.documents import ALL_DOCUMENTS
from tradegraph.documents.markets import set_tick_retention


@dataclass
class Store:
    client: Any
    database: Any
    emulated: bool

    @property
    def description(self) -> str:
        if self.emulated:
            return f"in-process MongoDB emulation (database {self.database.name})"
        nodes = ", ".join(f"{host}:{port}" for host, port in self.client.nodes) or "connecting"
        return f"MongoDB at {nodes} (database {self.database.name})"

    async def ping(self) -> None:
        """Raises when the store does not answer."""
        if not self.emulated:
            await self.database.command("ping")

    async def close(self) -> None:
        if not self.emulated:
            await self.client.close()


async def open_store(settings: Settings) -> Store:
    if settings.mongodb_url is None:
        from tradegraph.store_emulation import emulated_client

        client: Any = emulated_client()
        emulated = True
    else:
        client = AsyncMongoClient(
            settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        emulated = False
    database = client[settings.mongodb_database]
    set_tick_retention(settings.tick_retention_seconds)
    await init_beanie(database=database, document_models=ALL_DOCUMENTS)
    return Store(client=client, database=database, emulated=emulated)
