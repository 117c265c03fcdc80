"""Who may read /metrics: the loopback check, and metric labels that carry no ids."""

from __future__ import annotations

import pytest

from tradegraph.pubsub.channels import (
    EVENTS_CREATED,
    INSIGHTS_CREATED,
    backtest_channel,
    channel_kind,
    order_channel,
    portfolio_channel,
    quote_channel,
)
from tradegraph.web.metrics_access import is_loopback


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1"]
)
def test_loopback_is_all_of_127_8_and_ipv6_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "192.0.2.2",
        "10.0.0.1",
        "::ffff:10.0.0.1",
        "fe80::1%eth0",
        "0.0.0.0",
        "::",
        "localhost",
        "testclient",
        "127.0.0.1.evil",
    ],
)
def test_everything_else_is_not_loopback(host: str | None) -> None:
    assert not is_loopback(host)


def test_channel_kinds_name_the_family_never_the_id() -> None:
    assert channel_kind(EVENTS_CREATED) == "events"
    assert channel_kind(INSIGHTS_CREATED) == "insights"
    assert channel_kind(quote_channel("PETR4")) == "quotes"
    assert channel_kind(order_channel("65f0c0ffee")) == "orders"
    assert channel_kind(portfolio_channel("65f0c0ffee")) == "portfolios"
    assert channel_kind(backtest_channel("run-1")) == "backtests"
    assert channel_kind("tradegraph.secret-id") == "other"
    assert channel_kind("elsewhere.quotes.PETR4") == "other"
