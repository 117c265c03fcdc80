"""Per-owner caps (50 portfolios, 50 watchlists) hold under concurrency; paper cash per
portfolio is capped (TRADEGRAPH_MAX_PORTFOLIO_CASH), also under concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from tests.e2e.test_watchlists import CREATE as CREATE_WATCHLIST
from tests.e2e.test_watchlists import DELETE as DELETE_WATCHLIST
from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import CREATE_PORTFOLIO, DEPOSIT
from tradegraph.documents import LedgerEntry, Portfolio, Watchlist
from tradegraph.trading.portfolios import MAX_PORTFOLIOS_PER_OWNER
from tradegraph.trading.watchlists import MAX_WATCHLISTS

DEFAULT_CASH_CAP = Decimal(1_000_000_000)


def outcomes(bodies: list[dict]) -> Counter[str]:
    return Counter(error_code(b["errors"][0]) if b.get("errors") else "OK" for b in bodies)


async def test_80_concurrent_watchlists_store_exactly_the_cap(
    gql: GraphQLClient, trader: dict
) -> None:
    token = trader["accessToken"]
    attempts = [
        gql.execute(CREATE_WATCHLIST, {"name": f"W{n}", "symbols": []}, token) for n in range(80)
    ]
    bodies = await asyncio.gather(*attempts)
    assert outcomes(bodies) == {"OK": MAX_WATCHLISTS, "BAD_USER_INPUT": 80 - MAX_WATCHLISTS}
    refusal = next(b["errors"][0]["message"] for b in bodies if b.get("errors"))
    assert f"at most {MAX_WATCHLISTS} watchlists" in refusal
    owner = trader["user"]["id"]
    assert await Watchlist.find(Watchlist.owner_id == owner).count() == MAX_WATCHLISTS

    # Deleting one makes room for exactly one.
    kept = next(b["data"]["createWatchlist"]["id"] for b in bodies if not b.get("errors"))
    assert (await gql.data(DELETE_WATCHLIST, {"id": kept}, token))["deleteWatchlist"] is True
    again = await asyncio.gather(
        *(gql.execute(CREATE_WATCHLIST, {"name": f"X{n}", "symbols": []}, token) for n in range(3))
    )
    assert outcomes(again) == {"OK": 1, "BAD_USER_INPUT": 2}
    assert await Watchlist.find(Watchlist.owner_id == owner).count() == MAX_WATCHLISTS


async def test_80_concurrent_portfolios_store_exactly_the_cap(
    gql: GraphQLClient, trader: dict
) -> None:
    token = trader["accessToken"]
    attempts = [
        gql.execute(CREATE_PORTFOLIO, {"name": f"P{n}", "currency": "USD"}, token)
        for n in range(80)
    ]
    bodies = await asyncio.gather(*attempts)
    assert outcomes(bodies) == {
        "OK": MAX_PORTFOLIOS_PER_OWNER,
        "BAD_USER_INPUT": 80 - MAX_PORTFOLIOS_PER_OWNER,
    }
    owner = trader["user"]["id"]
    assert await Portfolio.find(Portfolio.owner_id == owner).count() == MAX_PORTFOLIOS_PER_OWNER


async def test_the_cap_counts_items_stored_before_counters_existed(
    gql: GraphQLClient, trader: dict
) -> None:
    owner, now = trader["user"]["id"], datetime.now(UTC)
    for n in range(MAX_WATCHLISTS - 1):  # as an older version stored them: no counter
        await Watchlist(owner_id=owner, name=f"old{n}", created_at=now, updated_at=now).insert()
    token = trader["accessToken"]
    bodies = await asyncio.gather(
        *(gql.execute(CREATE_WATCHLIST, {"name": f"N{n}", "symbols": []}, token) for n in range(5))
    )
    assert outcomes(bodies) == {"OK": 1, "BAD_USER_INPUT": 4}
    assert await Watchlist.find(Watchlist.owner_id == owner).count() == MAX_WATCHLISTS


async def test_a_deposit_past_the_cash_cap_is_refused_naming_it(
    gql: GraphQLClient, trader: dict
) -> None:
    token = trader["accessToken"]
    created = await gql.data(CREATE_PORTFOLIO, {"name": "Big", "currency": "USD"}, token)
    portfolio_id = created["createPortfolio"]["id"]
    await gql.data(DEPOSIT, {"id": portfolio_id, "amount": "999999000"}, token)
    refused = await gql.error(DEPOSIT, {"id": portfolio_id, "amount": "1000.01"}, token)
    assert error_code(refused) == "BAD_USER_INPUT"
    assert "1000000000 USD" in refused["message"]
    assert "at most 1000 more" in refused["message"]
    stored = await Portfolio.get(portfolio_id)
    assert stored is not None
    assert stored.cash == Decimal("999999000")
    ledger = await LedgerEntry.find(LedgerEntry.portfolio_id == stored.id).count()
    assert ledger == 1  # the refused deposit left nothing behind
    filled = await gql.data(DEPOSIT, {"id": portfolio_id, "amount": "1000"}, token)
    assert Decimal(filled["deposit"]["cash"]) == DEFAULT_CASH_CAP


async def test_concurrent_deposits_cannot_pass_the_cash_cap_together(
    gql: GraphQLClient, trader: dict
) -> None:
    token = trader["accessToken"]
    created = await gql.data(CREATE_PORTFOLIO, {"name": "Race", "currency": "USD"}, token)
    portfolio_id = created["createPortfolio"]["id"]
    each = DEFAULT_CASH_CAP / 4  # every one passes the early check; only 4 fit
    bodies = await asyncio.gather(
        *(gql.execute(DEPOSIT, {"id": portfolio_id, "amount": str(each)}, token) for _ in range(10))
    )
    assert outcomes(bodies) == {"OK": 4, "BAD_USER_INPUT": 6}
    stored = await Portfolio.get(portfolio_id)
    assert stored is not None
    assert stored.cash == DEFAULT_CASH_CAP
