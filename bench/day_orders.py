"""What one simulated trader knows of its orders, from placeOrder answers and `orderEvents`,
and the check that nothing was lost: cursors arrive as 1, 2, 3... (each event exactly once, in
order) and, at the end, every stored order matches the events received for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OPEN = ("NEW", "PARTIALLY_FILLED")


@dataclass
class OrderSeen:
    limit: bool
    status: str | None = None  # from the last event
    filled: Decimal = Decimal(0)  # sum of the fills of its events
    kinds: list[str] = field(default_factory=list)


class Ledger:
    def __init__(self) -> None:
        self.orders: dict[str, OrderSeen] = {}
        self.last_cursor = 0
        self.events = 0

    def placed(self, order_id: str, limit: bool) -> None:
        seen = self.orders.setdefault(order_id, OrderSeen(limit))
        seen.limit = seen.limit or limit  # its events may have come before the answer

    def event(self, event: dict[str, Any]) -> str | None:
        """Records an event; a description of what is wrong with its place in the stream."""
        cursor = int(event["cursor"])
        problem = None
        if cursor != self.last_cursor + 1:
            problem = f"cursor {cursor} after {self.last_cursor}"
        self.last_cursor = max(self.last_cursor, cursor)
        self.events += 1
        order = event["order"]
        seen = self.orders.setdefault(order["id"], OrderSeen(limit=False))
        seen.kinds.append(event["kind"])
        seen.status = order["status"]
        if event["fill"] is not None:
            seen.filled += Decimal(event["fill"]["quantity"])
        return problem

    def resting(self) -> list[str]:
        """LIMIT orders this trader placed whose last event left them open."""
        return [i for i, o in self.orders.items() if o.limit and o.status in OPEN]

    def compare(self, stored: list[dict[str, Any]]) -> list[str]:
        """Differences between the stored orders and what the events said of them."""
        problems = []
        for node in stored:
            seen = self.orders.get(node["id"])
            if seen is None or not seen.kinds:
                problems.append(f"order {node['id']} ({node['status']}): no event received")
                continue
            if seen.kinds[0] != "NEW" and node["status"] != "REJECTED":
                problems.append(f"order {node['id']}: first event {seen.kinds[0]}")
            if seen.status != node["status"]:
                problems.append(
                    f"order {node['id']}: last event {seen.status}, is {node['status']}"
                )
            if seen.filled != Decimal(node["filledQuantity"]):
                problems.append(
                    f"order {node['id']}: events filled {seen.filled}, "
                    f"stored {node['filledQuantity']}"
                )
        known = {node["id"] for node in stored}
        for order_id in self.orders:
            if order_id not in known:
                problems.append(f"order {order_id}: acknowledged but not listed")
        return problems
