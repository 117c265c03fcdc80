"""The root Mutation type."""

from __future__ import annotations

from inspect import getdoc

import strawberry

from tradegraph.resolvers import auth as auth_resolvers
from tradegraph.resolvers import events as event_resolvers
from tradegraph.schema.auth import AuthPayload
from tradegraph.schema.events import Event
from tradegraph.schema.permissions import IsAdmin


@strawberry.type
class Mutation:
    register: AuthPayload = strawberry.mutation(
        resolver=auth_resolvers.register, description=getdoc(auth_resolvers.register)
    )
    login: AuthPayload = strawberry.mutation(
        resolver=auth_resolvers.login, description=getdoc(auth_resolvers.login)
    )
    refresh_token: AuthPayload = strawberry.mutation(
        resolver=auth_resolvers.refresh_token, description=getdoc(auth_resolvers.refresh_token)
    )
    ingest_event: Event = strawberry.mutation(
        resolver=event_resolvers.ingest_event,
        description=getdoc(event_resolvers.ingest_event),
        permission_classes=[IsAdmin],
    )
