"""The executor every operation runs with: Strawberry's, with one memo per subscription event.

graphql-core 3.3 memoizes a selection's collected subfields on the executor, keyed by the
identity of the field list they were collected for, and keeps that list alive with the entry.
A subscription event runs on a shallow copy of the subscription's executor, so every copy
shares the one memo, while each event collects its root fields anew: every event added
entries that lived as long as the subscription (about six objects per nested field per event;
a dashboard's quotes feed, open all day, grew by millions and made every full garbage
collection longer). Here each event gets a memo of its own, which still serves the lists of
one result, as the memo is meant to.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class PerEventMemoExecutor(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
