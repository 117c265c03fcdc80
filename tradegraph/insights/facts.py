"""The facts an insight states: aggregated first, so the model only words them."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tradegraph.decimals import ZERO, plain
from tradegraph.documents import LedgerEntry, LedgerKind, Side
from tradegraph.errors import InvalidInput
from tradegraph.events.summary import compute_summary

RANGE = re.compile(r"^([1-9][0-9]{0,3})([mhd])$")
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_RANGE = timedelta(days=366)
TOP_USERS = 3


def parse_range(text: str) -> timedelta:
    """'15m', '24h', '7d' → a duration; anything else is BAD_USER_INPUT."""
    found = RANGE.match(text.strip())
    if not found:
        raise InvalidInput(
            f"range {text!r} is not like 15m, 24h or 7d (a number, then m, h or d)", field="range"
        )
    length = int(found.group(1)) * UNITS[found.group(2)]
    if length > MAX_RANGE:
        raise InvalidInput("range is at most 366d", field="range")
    return length


@dataclass(frozen=True)
class Facts:
    range: str
    values: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        """Same facts, same fingerprint: the cache key together with the range."""
        encoded = json.dumps(self.values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _money(value: float | Decimal) -> str:
    return f"{value:.2f}"


async def gather_facts(range_text: str, now: datetime | None = None) -> Facts:
    length = parse_range(range_text)
    to = now or datetime.now(UTC)
    from_ = to - length
    summary = await compute_summary({"timestamp": {"$gte": from_, "$lt": to}}, TOP_USERS)
    purchases = next((t.count for t in summary.by_type if t.type == "purchase"), 0)
    fills = await LedgerEntry.find(
        {"kind": LedgerKind.FILL.value, "applied": True, "timestamp": {"$gte": from_, "$lt": to}}
    ).to_list()
    flows = await LedgerEntry.find(
        {
            "kind": {"$ne": LedgerKind.FILL.value},
            "applied": True,
            "timestamp": {"$gte": from_, "$lt": to},
        }
    ).to_list()
    traded = sum((f.quantity * f.price for f in fills if f.quantity and f.price), ZERO)
    realized = sum((f.realized_pnl for f in fills if f.realized_pnl is not None), ZERO)
    values = {
        "events": summary.total_events,
        "events_by_type": {t.type: t.count for t in summary.by_type},
        "purchases": purchases,
        "average_ticket": None
        if summary.average_ticket is None
        else _money(summary.average_ticket),
        "top_users": [u.user_id for u in summary.top_users_by_value],
        "fills": len(fills),
        "buys": sum(1 for f in fills if f.side is Side.BUY),
        "sells": sum(1 for f in fills if f.side is Side.SELL),
        "traded_notional": plain(traded),
        "realized_pnl": plain(realized),
        "net_deposits": plain(sum((f.amount for f in flows), ZERO)),
    }
    return Facts(range=range_text.strip(), values=values)


def template_text(facts: Facts) -> str:
    """The facts in one deterministic sentence, for when no model answers."""
    v = facts.values
    parts = [f"Last {facts.range}: {v['events']} events", f"{v['purchases']} purchases"]
    if v["average_ticket"] is not None:
        parts.append(f"average ticket {v['average_ticket']}")
    if v["top_users"]:
        parts.append("top users " + ", ".join(v["top_users"]))
    text = ", ".join(parts)
    if v["fills"]:
        text += (
            f"; {v['fills']} fills ({v['buys']} buys, {v['sells']} sells), traded "
            f"{v['traded_notional']}, realized P&L {v['realized_pnl']}"
        )
    return text + "."
