"""Crash safety: a fill interrupted after its first step is completed by recovery, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from beanie import PydanticObjectId

from tests.support.clients import GraphQLClient
from tests.support.trading import (
    dec,
    place,
    portfolio,
    quoted_portfolio,
)
from tradegraph.documents import LedgerEntry, Order
from tradegraph.services import Services
from tradegraph.trading.settlement import recover


async def test_recovery_completes_an_interrupted_fill_exactly_once(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    placed = await place(
        gql, token, pid, "BUY", "10", type="LIMIT", limitPrice="9.00", timeInForce="GTC"
    )
    order = await Order.get(PydanticObjectId(placed["id"]))
    assert order is not None

    # The process "dies" right after the order journaled a fill: no cash, no position yet.
    execution = services.engine.execution
    journaled = await execution.journal_fill(order, Decimal(10), Decimal("9.00"), 2)
    assert journaled is not None
    before = await portfolio(gql, token, pid)
    assert (dec(before["cash"]), before["positions"]) == (1000, [])

    later = datetime.now(UTC) + timedelta(minutes=5)  # past the in-flight grace period
    assert await recover(now=later) == 1
    assert await recover(now=later) == 0  # nothing left to do: running again changes nothing
    after = await portfolio(gql, token, pid)
    assert dec(after["cash"]) == dec("910.00")
    assert dec(after["availableCash"]) == dec("910.00")  # the 90.00 reservation was spent
    assert dec(after["positions"][0]["quantity"]) == 10
    entry = await LedgerEntry.get(f"{order.id}:1")
    assert entry is not None
    assert entry.applied
    stored = await Order.get(order.id)
    assert stored is not None
    assert (stored.status.value, stored.unsettled) == ("FILLED", [])
