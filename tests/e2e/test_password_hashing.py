"""Password hashing leaves the event loop a core: by default one hash fewer at once than there
are cores, in threads at a lower scheduling priority (figures: docs/security-hardening.md)."""

from __future__ import annotations

import os
import sys

import pytest

from tradegraph.auth.passwords import DEFAULT_NICENESS, Passwords, current_thread_niceness
from tradegraph.config import Settings
from tradegraph.services import Services


def test_by_default_hashing_leaves_a_core_free() -> None:
    cores = os.cpu_count() or 2
    assert Settings().password_hash_concurrency == max(1, cores - 1)
    assert Settings(password_hash_concurrency=3).password_hash_concurrency == 3


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux's")
async def test_hashes_run_at_a_lower_priority_and_the_loop_does_not(
    services: Services,
) -> None:
    passwords = services.accounts.passwords
    assert await passwords.niceness() == DEFAULT_NICENESS == 10
    assert current_thread_niceness() == 0  # the event loop's thread keeps its priority
    hashed = await passwords.hash("correct horse battery")
    assert await passwords.verify("correct horse battery", hashed)
    assert not await passwords.verify("wrong horse battery", hashed)


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux's")
async def test_the_niceness_is_configurable_and_0_keeps_normal_priority() -> None:
    for niceness in (0, 19):
        passwords = Passwords(1, niceness)
        assert await passwords.niceness() == niceness
        assert await passwords.verify("x", None) is False  # an unknown account, same work
        passwords.close()
