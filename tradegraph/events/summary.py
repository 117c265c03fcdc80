"""Event aggregates for dashboards, computed by MongoDB aggregation pipelines.

Time buckets are aligned to the Unix epoch with date arithmetic ($subtract/$mod) instead of
$dateTrunc, which the in-process emulation lacks; MongoDB >= 7 runs these pipelines unchanged.

Aggregates are always finite: each value counts at most ±1e15 (the ingestion limit, so only
events stored before that limit existed are affected), and every reported number goes through
`reported`, which also drops binary float artefacts (0.1 + 0.2 is reported as 0.3).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from tradegraph import time_buckets
from tradegraph.documents import Event
from tradegraph.errors import InvalidInput
from tradegraph.events.validation import MAX_ABS_VALUE
from tradegraph.time_buckets import EPOCH

MAX_SERIES_POINTS = 10_000
MAX_TOP_N = 100
PURCHASE = "purchase"
# An event's value as the sums see it: within the ingestion limit even for older events.
VALUE = {"$max": [{"$min": ["$value", MAX_ABS_VALUE]}, -MAX_ABS_VALUE]}
SIGNIFICANT_DIGITS = 15  # what a double holds exactly; the digits after are float noise


class TimeBucket(Enum):
    MINUTE = timedelta(minutes=1)
    HOUR = timedelta(hours=1)
    DAY = timedelta(days=1)

    @property
    def milliseconds(self) -> int:
        return int(self.value.total_seconds() * 1000)


@dataclass(frozen=True)
class TypeTotal:
    type: str
    count: int
    total_value: float
    average_value: float


@dataclass(frozen=True)
class UserTotal:
    user_id: str
    count: int
    total_value: float


@dataclass(frozen=True)
class Summary:
    total_events: int
    total_value: float
    average_ticket: float | None
    by_type: list[TypeTotal]
    top_users_by_value: list[UserTotal]
    top_users_by_count: list[UserTotal]


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime
    count: int
    total_value: float


def reported(number: Any) -> float:
    """A sum or mean as the API reports it: finite (GraphQL's Float cannot carry inf or NaN),
    rounded to 15 significant digits so binary artefacts such as 0.30000000000000004 vanish."""
    value = float(number)
    if math.isnan(value):
        return 0.0
    value = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return max(-sys.float_info.max, min(sys.float_info.max, value))


def check_range(from_: datetime, to: datetime) -> None:
    if from_ >= to:
        raise InvalidInput("from must be before to", field="from")


def check_top_n(top_n: int) -> None:
    if not 1 <= top_n <= MAX_TOP_N:
        raise InvalidInput(f"topN must be between 1 and {MAX_TOP_N}", field="topN")


def _user_totals(sort: dict[str, int], top_n: int) -> list[dict[str, Any]]:
    return [
        {"$group": {"_id": "$user_id", "count": {"$sum": 1}, "total": {"$sum": VALUE}}},
        {"$sort": {**sort, "_id": 1}},
        {"$limit": top_n},
    ]


def summary_pipeline(match: dict[str, Any], top_n: int) -> list[dict[str, Any]]:
    is_purchase = {"$eq": ["$type", PURCHASE]}
    return [
        {"$match": match},
        {
            "$facet": {
                "totals": [
                    {
                        "$group": {
                            "_id": None,
                            "count": {"$sum": 1},
                            "total": {"$sum": VALUE},
                            "purchases": {"$sum": {"$cond": [is_purchase, 1, 0]}},
                            "purchase_total": {"$sum": {"$cond": [is_purchase, VALUE, 0]}},
                        }
                    }
                ],
                "by_type": [
                    {
                        "$group": {
                            "_id": "$type",
                            "count": {"$sum": 1},
                            "total": {"$sum": VALUE},
                        }
                    },
                    {"$sort": {"count": -1, "_id": 1}},
                ],
                "top_by_value": _user_totals({"total": -1, "count": -1}, top_n),
                "top_by_count": _user_totals({"count": -1, "total": -1}, top_n),
            }
        },
    ]


def _users(rows: list[dict[str, Any]]) -> list[UserTotal]:
    return [
        UserTotal(user_id=r["_id"], count=r["count"], total_value=reported(r["total"]))
        for r in rows
    ]


async def compute_summary(match: dict[str, Any], top_n: int) -> Summary:
    cursor = await Event.get_pymongo_collection().aggregate(summary_pipeline(match, top_n))
    (facets,) = await cursor.to_list()
    totals = facets["totals"][0] if facets["totals"] else {}
    purchases = totals.get("purchases", 0)
    return Summary(
        total_events=totals.get("count", 0),
        total_value=reported(totals.get("total", 0)),
        average_ticket=reported(totals["purchase_total"] / purchases) if purchases else None,
        by_type=[
            TypeTotal(
                type=r["_id"],
                count=r["count"],
                total_value=reported(r["total"]),
                average_value=reported(r["total"] / r["count"]),
            )
            for r in facets["by_type"]
        ],
        top_users_by_value=_users(facets["top_by_value"]),
        top_users_by_count=_users(facets["top_by_count"]),
    )


def bucket_start(moment: datetime, bucket: TimeBucket) -> datetime:
    return time_buckets.bucket_start(moment, bucket.milliseconds // 1000)


def series_pipeline(match: dict[str, Any], bucket: TimeBucket) -> list[dict[str, Any]]:
    since_epoch = {"$subtract": ["$timestamp", EPOCH]}  # date - date = milliseconds
    start = {"$subtract": ["$timestamp", {"$mod": [since_epoch, bucket.milliseconds]}]}
    return [
        {"$match": match},
        {"$group": {"_id": start, "count": {"$sum": 1}, "total": {"$sum": VALUE}}},
        {"$sort": {"_id": 1}},
    ]


def check_series_size(from_: datetime, to: datetime, bucket: TimeBucket) -> None:
    points = (bucket_start(to, bucket) - bucket_start(from_, bucket)) / bucket.value + 1
    if points > MAX_SERIES_POINTS:
        raise InvalidInput(
            f"{int(points)} {bucket.name} buckets requested; at most {MAX_SERIES_POINTS}: "
            "choose a larger bucket or a shorter range",
            field="bucket",
        )


async def compute_series(
    match: dict[str, Any], from_: datetime, to: datetime, bucket: TimeBucket
) -> list[SeriesPoint]:
    """One point per bucket from `from_` to `to`, empty buckets included (charts need them)."""
    check_series_size(from_, to, bucket)
    cursor = await Event.get_pymongo_collection().aggregate(series_pipeline(match, bucket))
    found = {row["_id"].astimezone(UTC): row for row in await cursor.to_list()}
    points = []
    start = bucket_start(from_, bucket)
    while start < to:
        row = found.get(start, {"count": 0, "total": 0})
        points.append(
            SeriesPoint(start=start, count=row["count"], total_value=reported(row["total"]))
        )
        start += bucket.value
    return points
