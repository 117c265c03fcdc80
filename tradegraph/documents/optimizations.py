"""Parameter optimisations: the run (status, best, walk-forward folds) and, apart, its rows
(one per combination, up to 10,000) so that listing runs never loads them."""

from __future__ import annotations

from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from tradegraph.documents.analytics import BackgroundRun, background_run_indexes


class OptimizationRun(BackgroundRun, Document):
    kind: str
    parameters: list[dict[str, Any]]
    maximize: str
    constraint: str | None = None
    walk_forward: dict[str, Any] | None = None
    combinations: int
    best_parameters: dict[str, Any] | None = None
    best: dict[str, Any] | None = None
    folds: list[dict[str, Any]] = Field(default_factory=list)
    out_of_sample_equity: list[tuple[int, float]] = Field(default_factory=list)

    class Settings:
        name = "optimizations"
        use_revision = False
        indexes = background_run_indexes()


class OptimizationRows(Document):
    """Every combination's parameters and metrics, in grid order."""

    optimization_id: str
    rows: list[dict[str, Any]]

    class Settings:
        name = "optimization_rows"
        use_revision = False
        indexes = [IndexModel([("optimization_id", ASCENDING)], name="optimization", unique=True)]
