"""What an admitted widget key may read: market data only, and only its symbols if it lists
any. The schema asks `refusal` before resolving a field for a widget-key caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Root fields (queries and subscriptions share the names) a widget key may use.
MARKET_DATA_FIELDS = frozenset({"instruments", "instrument", "quote", "quotes", "candles"})
READ_ONLY = (
    "a widget key reads only market data (instruments, instrument, quote, quotes, candles and "
    "the quotes/candles subscriptions); log in for {field}"
)


@dataclass(frozen=True)
class WidgetGrant:
    """An admitted widget key, as a request or socket carries it."""

    key_id: str
    name: str
    symbols: frozenset[str] | None  # None: every instrument

    def allows_symbol(self, symbol: str) -> bool:
        return self.symbols is None or symbol.strip().upper() in self.symbols

    def refusal(self, field: str, symbols: Iterable[str] = ()) -> str | None:
        """Why this key may not read `field` for `symbols`; None when it may."""
        if field not in MARKET_DATA_FIELDS:
            return READ_ONLY.format(field=field)
        outside = [s.strip().upper() for s in symbols if not self.allows_symbol(s)]
        if outside:
            covered = sorted(self.symbols or ())
            listed = ", ".join(covered[:10]) + (", …" if len(covered) > 10 else "")
            return f"this widget key does not cover {', '.join(outside[:5])}; it covers {listed}"
        return None
