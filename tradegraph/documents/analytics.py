"""Backtest runs and cached insights."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class BacktestStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def finished(self) -> bool:
        return self not in (BacktestStatus.QUEUED, BacktestStatus.RUNNING)


ACTIVE_STATUSES = [BacktestStatus.QUEUED.value, BacktestStatus.RUNNING.value]


class BackgroundRun(BaseModel):
    """What a backtest run and an optimisation share: whose it is, the market and cash it
    runs on, and where it stands."""

    owner_id: str
    status: BacktestStatus
    progress: float = 0.0
    symbol: str
    interval: str
    from_: datetime
    to: datetime
    initial_cash: float
    fee_bps: float
    bars: int | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    process_id: str | None = None  # the server process computing it (ResearchProcess)


def background_run_indexes() -> list[IndexModel]:
    """Listing a user's runs newest first; finding runs a stopped process left unfinished."""
    return [
        IndexModel(
            [("owner_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="owner_created",
        ),
        IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="status"),
    ]


class ResearchProcess(Document):
    """A server process that computes research runs, alive while `seen_at` keeps moving: its
    runs outlive it only as FAILED."""

    id: str  # type: ignore[assignment]  # random per process start
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime

    class Settings:
        name = "research_processes"
        use_revision = False


class BacktestRun(BackgroundRun, Document):
    strategy: dict[str, Any]
    result: dict[str, Any] | None = None

    class Settings:
        name = "backtest_runs"
        use_revision = False
        indexes = background_run_indexes()


class InsightSource(StrEnum):
    OPENAI = "OPENAI"
    TEMPLATE = "TEMPLATE"


class InsightRecord(Document):
    """A generated insight, cached per (range, facts fingerprint) until `expires_at`."""

    range: str
    fingerprint: str
    text: str
    source: InsightSource
    model: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    reason: str | None = None
    created_at: datetime
    expires_at: datetime

    class Settings:
        name = "insights"
        use_revision = False
        indexes = [
            IndexModel(
                [("range", ASCENDING), ("fingerprint", ASCENDING), ("created_at", DESCENDING)],
                name="range_fingerprint",
            ),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry_ttl"),
        ]
