"""Who the simulated traders of `python -m bench day` are: currency, holdings, watchlist and
chart, drawn from a seeded generator so every run (and the idle baseline) trades the same way."""

from __future__ import annotations

import random
from dataclasses import dataclass

# The instruments `serve --seed` creates (tradegraph/markets/universe.py), by quote currency.
BRL = ["PETR4", "VALE3", "ITUB4", "BBDC4", "WEGE3", "ABEV3", "BOVA11", "HGLG11", "KNRI11", "MXRF11"]
USD = ["AAPL", "MSFT", "NVDA", "JPM", "SPY", "QQQ", "O"]
OTHERS = ["BTCUSDT", "ETHUSDT"]
WATCHLIST_SIZE = 12


@dataclass(frozen=True)
class TraderPlan:
    name: str
    seed: int
    currency: str
    holdings: list[str]  # 3-8 symbols, all in the watchlist
    watchlist: list[str]  # 12 symbols
    chart: str  # the symbol of its candles subscription


def watchlists(count: int, run: str) -> list[tuple[str, list[str]]]:
    """`count` distinct watchlists (currency, symbols): those of the portfolio's currency first,
    then others. Dashboards that watch the same list share one execution of `quotes`."""
    rng = random.Random(f"{run}:watchlists")
    lists = []
    everything = BRL + USD + OTHERS
    for index in range(count):
        currency, home = ("BRL", BRL) if index % 5 < 3 else ("USD", USD)
        own = rng.sample(home, min(len(home), rng.randint(6, 10)))
        rest = [s for s in everything if s not in own]
        lists.append((currency, own + rng.sample(rest, WATCHLIST_SIZE - len(own))))
    return lists


def plan_traders(first: int, count: int, run: str, distinct_watchlists: int) -> list[TraderPlan]:
    lists = watchlists(distinct_watchlists, run)
    plans = []
    for index in range(first, first + count):
        rng = random.Random(f"{run}:{index}")
        currency, watchlist = lists[index % len(lists)]
        home = [s for s in watchlist if s in (BRL if currency == "BRL" else USD)]
        holdings = rng.sample(home, rng.randint(3, min(8, len(home))))
        plans.append(
            TraderPlan(
                name=f"day-{run}-{index}",
                seed=rng.randrange(2**32),
                currency=currency,
                holdings=holdings,
                watchlist=sorted(watchlist),
                chart=rng.choice(holdings),
            )
        )
    return plans
