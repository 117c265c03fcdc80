"""How many WebSocket connections and live subscriptions each user holds, in this process.

One self-registered account must not be able to open thousands of subscriptions and make the
server execute each of them on every quote. The counts live in the process: with
`tradegraph serve --workers N` a user may hold up to N times the limits, one share per worker.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class UserQuota:
    """Per-user counts of open sockets and live subscriptions, refused past the limits."""

    max_connections: int
    max_subscriptions: int
    connections: Counter[str] = field(default_factory=Counter)
    subscriptions: Counter[str] = field(default_factory=Counter)

    def open_connection(self, user_id: str) -> bool:
        """Counts a socket for `user_id`; False (nothing counted) when at the limit."""
        if self.connections[user_id] >= self.max_connections:
            return False
        self.connections[user_id] += 1
        return True

    def close_connection(self, user_id: str) -> None:
        _decrement(self.connections, user_id)

    def start_subscription(self, user_id: str) -> bool:
        """Counts a subscription for `user_id`; False (nothing counted) when at the limit."""
        if self.subscriptions[user_id] >= self.max_subscriptions:
            return False
        self.subscriptions[user_id] += 1
        return True

    def end_subscription(self, user_id: str) -> None:
        _decrement(self.subscriptions, user_id)

    def connections_refused_reason(self) -> str:
        return (
            f"too many connections for this user (at most {self.max_connections}): "
            "close one, or run several subscriptions on one socket"
        )

    def subscriptions_refused_message(self) -> str:
        return (
            f"too many live subscriptions for this user (at most {self.max_subscriptions} across "
            "all sockets): complete one before subscribing again"
        )


def _decrement(counts: Counter[str], user_id: str) -> None:
    # Dropping zero entries keeps the table as large as the users connected now, not ever.
    if counts[user_id] <= 1:
        counts.pop(user_id, None)
    else:
        counts[user_id] -= 1
