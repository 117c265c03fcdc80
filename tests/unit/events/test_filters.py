"""events/filters.py: an event filter's own checks, narrowing to what a caller may see, and
that the MongoDB query (listings) and the live predicate (subscriptions) agree on every event."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import mongomock.filtering
import pytest

from tests.support import unsaved
from tradegraph.auth.principal import Principal
from tradegraph.documents import Event, Role
from tradegraph.errors import InvalidInput
from tradegraph.events.filters import EventQuery

T0 = unsaved.T0
HOUR = timedelta(hours=1)

EVENTS = [
    unsaved.event(type=type_, user_id=user, timestamp=T0 + hours * HOUR, value=value)
    for type_, user, hours, value in itertools.product(
        ["purchase", "login"], ["user-1", "user-2"], [-1, 0, 1, 2], [-5.0, 0.0, 10.0, 10.5]
    )
]

QUERIES = [
    EventQuery(),
    EventQuery(type="purchase"),
    EventQuery(type=""),
    EventQuery(user_id="user-2"),
    EventQuery(from_=T0),  # inclusive
    EventQuery(to=T0 + HOUR),  # exclusive
    EventQuery(from_=T0, to=T0 + HOUR),
    EventQuery(min_value=0.0),  # zero is a bound, not "no bound"
    EventQuery(max_value=10.0),
    EventQuery(min_value=10.0, max_value=10.0),
    EventQuery(type="login", user_id="user-1", from_=T0 - HOUR, to=T0 + 2 * HOUR, min_value=-5),
]


def document(event: Event) -> dict[str, Any]:
    return {
        "_id": event.id,
        "type": event.type,
        "user_id": event.user_id,
        "timestamp": event.timestamp,
        "value": event.value,
    }


@pytest.mark.parametrize("query", QUERIES)
def test_the_mongo_query_and_the_live_predicate_select_the_same_events(query: EventQuery) -> None:
    mongo = query.to_mongo()
    by_store = [e.id for e in EVENTS if mongomock.filtering.filter_applies(mongo, document(e))]
    live = [e.id for e in EVENTS if query.matches(e)]
    assert by_store == live


def test_bounds_are_from_inclusive_and_to_exclusive_and_values_inclusive() -> None:
    query = EventQuery(from_=T0, to=T0 + HOUR, min_value=0.0, max_value=10.0)
    assert query.to_mongo() == {
        "timestamp": {"$gte": T0, "$lt": T0 + HOUR},
        "value": {"$gte": 0.0, "$lte": 10.0},
    }
    assert query.matches(unsaved.event(timestamp=T0, value=0.0))
    assert query.matches(unsaved.event(timestamp=T0, value=10.0))
    assert not query.matches(unsaved.event(timestamp=T0 + HOUR, value=5.0))


def test_an_empty_filter_is_an_empty_query() -> None:
    assert EventQuery().to_mongo() == {}


@pytest.mark.parametrize("to", [T0, T0 - HOUR])
def test_a_time_range_must_move_forward(to: datetime) -> None:
    with pytest.raises(InvalidInput) as refused:
        EventQuery(from_=T0, to=to)
    assert refused.value.details == {"field": "filter.from"}


def test_min_value_may_equal_but_not_exceed_max_value() -> None:
    EventQuery(min_value=1.0, max_value=1.0)
    with pytest.raises(InvalidInput) as refused:
        EventQuery(min_value=1.5, max_value=1.0)
    assert refused.value.details == {"field": "filter.minValue"}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_admins_and_analysts_see_every_users_events(role: Role) -> None:
    query = EventQuery(user_id="user-2")
    assert query.visible_to(Principal("user-1", "a@example.com", role)) is query


def test_a_trader_is_narrowed_to_their_own_events() -> None:
    trader = Principal("user-1", "t@example.com", Role.TRADER)
    assert EventQuery(type="login").visible_to(trader) == EventQuery(type="login", user_id="user-1")
    assert EventQuery(user_id="user-1").visible_to(trader) == EventQuery(user_id="user-1")


def test_a_trader_asking_for_someone_elses_events_gets_nothing() -> None:
    trader = Principal("user-1", "t@example.com", Role.TRADER)
    assert EventQuery(user_id="user-2").visible_to(trader) is None
