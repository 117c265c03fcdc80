"""What every research run shows, whatever its kind: the GraphQL interface ResearchRun that
BacktestRun and Optimization implement."""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import strawberry

from tradegraph import documents
from tradegraph.analytics.research_runs import queue_position
from tradegraph.schema.core.connection import Edge
from tradegraph.schema.core.context import Info
from tradegraph.schema.markets import CandleInterval, cash_of

strawberry.enum(
    documents.BacktestStatus,
    name="BacktestStatus",
    description="QUEUED: waiting for one of its owner's run slots (see queuePosition); "
    "RUNNING; then one of COMPLETED, FAILED (see error) or CANCELED.",
)
BacktestStatus = documents.BacktestStatus


@strawberry.input(description="The market, cash and fee every kind of run is given.")
class RunMarketInput:
    symbol: str
    interval: CandleInterval
    from_: datetime = strawberry.field(name="from")
    to: datetime
    initial_cash: Decimal
    fee_bps: float = 0.0


@strawberry.interface(
    description="A backtest or an optimisation: queued, running with progress, then finished. "
    "At most TRADEGRAPH_RUNS_PER_USER of a user's runs compute at once; the others wait "
    "QUEUED in the order they were started."
)
class ResearchRun:
    id: strawberry.ID
    status: BacktestStatus
    progress: float = strawberry.field(description="0 to 1.")
    symbol: str
    interval: CandleInterval
    from_: datetime = strawberry.field(name="from")
    to: datetime
    _initial_cash: strawberry.Private[float]
    _document: strawberry.Private[documents.BacktestRun | documents.OptimizationRun]
    fee_bps: float
    bars: int | None = strawberry.field(description="Candles in the range, once loaded.")
    error: str | None = strawberry.field(description="Why the run FAILED.")
    created_at: datetime
    finished_at: datetime | None = strawberry.field(
        description="When it COMPLETED, FAILED or was CANCELED."
    )

    @strawberry.field(description="Cash at the start, at the scale of the instrument's currency.")
    async def initial_cash(self, info: Info) -> Decimal:
        return await cash_of(info, self.symbol, self._initial_cash)

    @strawberry.field(
        description="While QUEUED, its place in its owner's line (1: starts next, when one of "
        "the owner's running runs ends); null otherwise."
    )
    async def queue_position(self) -> int | None:
        return await queue_position(self._document)


Listed = TypeVar("Listed", bound=type)


def relay_connection(noun: str, description: str) -> Callable[[Listed], Listed]:
    """Declares a Connection[Node] subclass as the GraphQL type `{noun}Connection`, its edges
    as `{noun}Edge`."""

    def declared(connection: Listed) -> Listed:
        node = connection.__orig_bases__[0].__args__[0]  # type: ignore[attr-defined]
        edge = types.new_class(f"{noun}Edge", (Edge[node],))  # type: ignore[valid-type]
        connection.__annotations__["edges"] = list[strawberry.type(edge, name=f"{noun}Edge")]  # type: ignore[misc]
        return strawberry.type(connection, name=f"{noun}Connection", description=description)

    return declared


def run_fields(run: documents.BacktestRun | documents.OptimizationRun) -> dict[str, Any]:
    """The ResearchRun fields of a stored run, for the implementing types' constructors."""
    return {
        "id": strawberry.ID(str(run.id)),
        "status": run.status,
        "progress": run.progress,
        "symbol": run.symbol,
        "interval": documents.CandleInterval(run.interval),
        "from_": run.from_,
        "to": run.to,
        "_initial_cash": run.initial_cash,
        "_document": run,
        "fee_bps": run.fee_bps,
        "bars": run.bars,
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }
