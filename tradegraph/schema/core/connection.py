"""One Relay-style connection for every list: edges with cursors, pageInfo, totalCount.
Pages come from tradegraph/pagination.py; a domain's connection subclasses Connection[Node]
for its GraphQL name and description."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Self, TypeVar

import strawberry

from tradegraph.pagination import Page

Node = TypeVar("Node")


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Items matching the query, on all pages.")
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def from_page(
        cls,
        page: Page[Any],
        node: Callable[[Any], Node],
        count: Callable[[], Awaitable[int]],
    ) -> Self:
        """The connection for `page`, each item shown as `node(item)`; `count` runs only when
        totalCount is asked for."""
        edges = [Edge(cursor=page.cursor(item), node=node(item)) for item in page.items]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            _count=count,
        )
