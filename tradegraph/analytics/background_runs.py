"""What backtest runs and optimisations share as background jobs: how their state is published
and how runs a stopped process left behind are closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import Document

from tradegraph.pubsub.broker import Broker

INTERRUPTED_AFTER = timedelta(minutes=10)


async def publish_state(
    broker: Broker, channel: str, state: dict[str, Any], finished: bool
) -> None:
    """The final state must arrive (through the outbox if need be); progress is superseded by the
    next message anyway, so it is a last-value publish."""
    text = json.dumps(state)
    if finished:
        await broker.publish(channel, text)
    else:
        await broker.publish_latest(channel, text)


async def fail_interrupted(model: type[Document]) -> int:
    """Runs left QUEUED or RUNNING by a process that stopped: FAILED, with the reason."""
    now = datetime.now(UTC)
    result = await model.get_pymongo_collection().update_many(
        {"status": {"$in": ["QUEUED", "RUNNING"]}, "updated_at": {"$lt": now - INTERRUPTED_AFTER}},
        {
            "$set": {
                "status": "FAILED",
                "error": "interrupted: the server stopped; run again",
                "finished_at": now,
            }
        },
    )
    return int(result.modified_count)
