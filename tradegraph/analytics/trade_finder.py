"""Where a strategy's trades start and end, from its signal bars: integer searches, one short
step per trade only when stops are set (or a bar signals both ways), never a loop over bars.

Rules: a signal on a bar's close executes at the next bar's open; a signal on the last bar is
not executed; while a position is open further entries are ignored; stop-loss and take-profit
are checked on closes like any signal; a position still open at the end is closed at the last
close."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from tradegraph.analytics.strategy import Strategy


@dataclass(frozen=True)
class TradeBars:
    """starts[k]: the bar whose open buys; sales[k]: the bar whose open sells (the last bar, at
    its close, when `at_end`). Flat from a sale's bar on."""

    starts: np.ndarray
    sales: np.ndarray
    at_end: bool


def find_trades(
    strategy: Strategy,
    closes: np.ndarray,
    opens: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
) -> TradeBars:
    """The trades of `strategy` (checked) given its ascending entry and exit signal bars."""
    entries = entries[entries < len(closes) - 1]  # a signal on the last bar is not executed
    if not (strategy.stop_loss_pct or strategy.take_profit_pct) and not _coincide(entries, exits):
        return _without_stops(len(closes), entries, exits)
    return _one_by_one(strategy, closes, opens, entries.tolist(), exits.tolist())


def _coincide(entries: np.ndarray, exits: np.ndarray) -> bool:
    """Whether some bar signals both an entry and an exit (no built-in strategy does)."""
    if not len(exits) or not len(entries):
        return False
    found = np.minimum(np.searchsorted(exits, entries), len(exits) - 1)
    return bool(np.any(exits[found] == entries))


def _without_stops(n: int, entries: np.ndarray, exits: np.ndarray) -> TradeBars:
    """Entries grouped by the exit signal that follows them: each group is one trade, entered
    on its first signal (the others fall while the position is open). This holds when no bar
    signals both, so the sale bar (exit + 1) never carries an entry of the next group."""
    group = np.searchsorted(exits, entries + 1)
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    starts, group = entries[first] + 1, group[first]
    if not len(starts):
        return TradeBars(starts, starts, False)
    closed = group < len(exits)
    last = exits[np.minimum(group, len(exits) - 1)] if len(exits) else group
    signal = np.where(closed, last, n - 1)
    at_end = bool(signal[-1] >= n - 1)
    sales = signal + 1
    if at_end:
        sales[-1] = n - 1
    return TradeBars(starts, sales, at_end)


def _stop_bar(strategy: Strategy, closes: np.ndarray, entry: int, until: int, price: float) -> int:
    """The first bar in [entry, until] whose close hits the stop-loss or take-profit; -1."""
    window = closes[entry : until + 1]
    hits = np.zeros(len(window), dtype=bool)
    if strategy.stop_loss_pct:
        hits |= window <= price * (1 - strategy.stop_loss_pct / 100)
    if strategy.take_profit_pct:
        hits |= window >= price * (1 + strategy.take_profit_pct / 100)
    return entry + int(np.argmax(hits)) if hits.any() else -1


def _one_by_one(
    strategy: Strategy, closes: np.ndarray, opens: np.ndarray, entries: list[int], exits: list[int]
) -> TradeBars:
    n = len(closes)
    starts: list[int] = []
    sales: list[int] = []
    at_end = False
    k = 0
    while k < len(entries):
        start = entries[k] + 1
        j = bisect_left(exits, start)
        exit_signal = exits[j] if j < len(exits) else n - 1
        stop = _stop_bar(strategy, closes, start, exit_signal, float(opens[start]))
        signal_bar = stop if stop >= 0 else exit_signal
        starts.append(start)
        if signal_bar >= n - 1:  # no exit before the last bar: still open at the end
            sales.append(n - 1)
            at_end = True
            break
        sales.append(signal_bar + 1)
        k = bisect_left(entries, signal_bar + 1, k + 1)
    return TradeBars(np.array(starts, dtype=np.int64), np.array(sales, dtype=np.int64), at_end)
