"""The root Subscription type."""

from __future__ import annotations

from inspect import getdoc

import strawberry

from tradegraph.resolvers import events as event_resolvers
from tradegraph.schema.events import Event
from tradegraph.schema.permissions import IsAuthenticated


@strawberry.type
class Subscription:
    event_created: Event = strawberry.subscription(
        resolver=event_resolvers.event_created,
        description=getdoc(event_resolvers.event_created),
        permission_classes=[IsAuthenticated],
    )
