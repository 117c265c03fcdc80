"""Which events a caller asked for (and may see): as a MongoDB query and as a live predicate."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tradegraph.auth.principal import Principal
from tradegraph.documents import Event
from tradegraph.errors import InvalidInput


@dataclass(frozen=True)
class EventQuery:
    """A conjunction of optional conditions; `from_` is inclusive, `to` exclusive."""

    type: str | None = None
    user_id: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    min_value: float | None = None
    max_value: float | None = None

    def __post_init__(self) -> None:
        if self.from_ and self.to and self.from_ >= self.to:
            raise InvalidInput("filter.from must be before filter.to", field="filter.from")
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise InvalidInput(
                "filter.minValue must not exceed filter.maxValue", field="filter.minValue"
            )

    def visible_to(self, principal: Principal) -> EventQuery | None:
        """Narrowed to what the principal may see; None when nothing can match."""
        if principal.sees_all_events:
            return self
        if self.user_id is not None and self.user_id != principal.user_id:
            return None
        return replace(self, user_id=principal.user_id)

    def to_mongo(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.type is not None:
            query["type"] = self.type
        if self.user_id is not None:
            query["user_id"] = self.user_id
        time_range = {
            op: bound for op, bound in (("$gte", self.from_), ("$lt", self.to)) if bound is not None
        }
        if time_range:
            query["timestamp"] = time_range
        value_range = {
            op: bound
            for op, bound in (("$gte", self.min_value), ("$lte", self.max_value))
            if bound is not None
        }
        if value_range:
            query["value"] = value_range
        return query

    def matches(self, event: Event) -> bool:
        """The same conditions as `to_mongo`, for events arriving live."""
        return (
            (self.type is None or event.type == self.type)
            and (self.user_id is None or event.user_id == self.user_id)
            and (self.from_ is None or event.timestamp >= self.from_)
            and (self.to is None or event.timestamp < self.to)
            and (self.min_value is None or event.value >= self.min_value)
            and (self.max_value is None or event.value <= self.max_value)
        )
