"""The root Query type."""

from __future__ import annotations

from inspect import getdoc

import strawberry

from tradegraph.resolvers import auth as auth_resolvers
from tradegraph.resolvers import events as event_resolvers
from tradegraph.schema.auth import User
from tradegraph.schema.events import Event, EventConnection, EventSummary
from tradegraph.schema.permissions import IsAuthenticated


@strawberry.type
class Query:
    me: User | None = strawberry.field(
        resolver=auth_resolvers.me, description=getdoc(auth_resolvers.me)
    )
    events: EventConnection = strawberry.field(
        resolver=event_resolvers.events,
        description=getdoc(event_resolvers.events),
        permission_classes=[IsAuthenticated],
    )
    event: Event | None = strawberry.field(
        resolver=event_resolvers.event,
        description=getdoc(event_resolvers.event),
        permission_classes=[IsAuthenticated],
    )
    event_summary: EventSummary = strawberry.field(
        resolver=event_resolvers.event_summary,
        description=getdoc(event_resolvers.event_summary),
        permission_classes=[IsAuthenticated],
    )
