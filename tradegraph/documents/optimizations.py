"""Parameter optimisations: the run (status, best, walk-forward folds) and, apart, its rows
(one per combination, up to 10,000) so that listing runs never loads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from tradegraph.documents.analytics import BacktestStatus


class OptimizationRun(Document):
    owner_id: str
    status: BacktestStatus
    progress: float = 0.0
    symbol: str
    interval: str
    from_: datetime
    to: datetime
    initial_cash: float
    fee_bps: float
    kind: str
    parameters: list[dict[str, Any]]
    maximize: str
    constraint: str | None = None
    walk_forward: dict[str, Any] | None = None
    combinations: int
    bars: int | None = None
    best_parameters: dict[str, Any] | None = None
    best: dict[str, Any] | None = None
    folds: list[dict[str, Any]] = Field(default_factory=list)
    out_of_sample_equity: list[tuple[int, float]] = Field(default_factory=list)
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    class Settings:
        name = "optimizations"
        use_revision = False
        indexes = [
            IndexModel(
                [("owner_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="owner_created",
            ),
            IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="status"),
        ]


class OptimizationRows(Document):
    """Every combination's parameters and metrics, in grid order."""

    optimization_id: str
    rows: list[dict[str, Any]]

    class Settings:
        name = "optimization_rows"
        use_revision = False
        indexes = [IndexModel([("optimization_id", ASCENDING)], name="optimization", unique=True)]
