"""trading/portfolios.py: who may read a portfolio (and its orders) and who may change it."""

from __future__ import annotations

import pytest

from tradegraph.auth.principal import Principal
from tradegraph.documents import Role
from tradegraph.errors import PermissionDenied
from tradegraph.trading.portfolios import can_read, check_can_change

OWNER = "owner-1"


def principal(role: Role, user_id: str = "someone-else") -> Principal:
    return Principal(user_id, f"{user_id}@example.com", role)


@pytest.mark.parametrize("role", list(Role))
def test_the_owner_may_read_and_change_their_portfolio(role: Role) -> None:
    owner = principal(role, OWNER)
    assert can_read(owner, OWNER)
    check_can_change(owner, OWNER)


def test_an_admin_may_read_but_not_change_anyones_portfolio() -> None:
    # Issue 25: an ADMIN's order once filled in a TRADER's portfolio; staff only read.
    admin = principal(Role.ADMIN)
    assert can_read(admin, OWNER)
    with pytest.raises(PermissionDenied, match="only its owner may change it"):
        check_can_change(admin, OWNER)


def test_an_analyst_may_read_but_not_change_anyones_portfolio() -> None:
    analyst = principal(Role.ANALYST)
    assert can_read(analyst, OWNER)
    with pytest.raises(PermissionDenied, match="only its owner may change it"):
        check_can_change(analyst, OWNER)


def test_another_trader_may_not_read_the_portfolio() -> None:
    assert not can_read(principal(Role.TRADER), OWNER)
