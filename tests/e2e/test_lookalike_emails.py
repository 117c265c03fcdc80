"""Look-alike emails: registering an address whose TR39 skeleton matches an existing account's
is CONFLICT, like the same address, and leaves no account behind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import ADMIN_EMAIL, REGISTER, register
from tests.support.clients import GraphQLClient, error_code
from tradegraph.auth.lookalikes import skeleton
from tradegraph.documents import Role, User
from tradegraph.services import Services

LOOKALIKES_OF_ADMIN = {
    "fullwidth": "\uff41\uff44\uff4d\uff49\uff4e@example.com",
    "cyrillic a": "\u0430dmin@example.com",
    "dotless i": "adm\u0131n@example.com",
    "digit one for l": "admin@examp1e.com",
}


@pytest.mark.parametrize("form", LOOKALIKES_OF_ADMIN)
async def test_a_lookalike_of_an_existing_account_is_a_conflict(
    gql: GraphQLClient, form: str
) -> None:
    email = LOOKALIKES_OF_ADMIN[form]
    assert email != ADMIN_EMAIL
    refused = await gql.error(REGISTER, {"email": email, "password": "lookalike-pass-9x"})
    assert error_code(refused) == "CONFLICT"
    assert "looks like it" in refused["message"]
    assert await User.count() == 1  # only the admin


async def test_emails_that_only_differ_visibly_still_register(gql: GraphQLClient) -> None:
    await register(gql, "adam@example.com")
    await register(gql, "admin2@example.com")
    await register(gql, "jos\u00e9@example.com")
    await register(gql, "jose@example.com")  # an accent is visible: not a look-alike
    assert await User.count() == 5


def test_the_skeleton_is_equal_exactly_for_lookalikes() -> None:
    base = skeleton(ADMIN_EMAIL)
    assert all(skeleton(email) == base for email in LOOKALIKES_OF_ADMIN.values())
    assert skeleton("b0b@example.com") == skeleton("bob@example.com")
    assert skeleton("bob@example.com") != skeleton("rob@example.com")


async def test_accounts_stored_before_skeletons_get_one_at_startup(
    gql: GraphQLClient, services: Services
) -> None:
    legacy = {
        "email": "carol@example.com",
        "password_hash": "x",
        "role": Role.TRADER.value,
        "created_at": datetime.now(UTC),
    }
    await User.get_pymongo_collection().insert_one(legacy)  # as an older version stored it
    assert await services.accounts.fill_in_skeletons() == 1
    stored = await User.find_one(User.email == "carol@example.com")
    assert stored is not None
    assert stored.email_skeleton == skeleton("carol@example.com")
    refused = await gql.error(
        REGISTER, {"email": "c\u0430rol@example.com", "password": "lookalike-pass-9x"}
    )
    assert error_code(refused) == "CONFLICT"
