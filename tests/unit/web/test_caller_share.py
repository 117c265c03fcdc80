"""CallerShares (web/caller_share.py): a caller's requests run a few at a time, the rest wait in
arrival order or are refused, other callers are not held, and a cancelled waiter gives back
whatever it held."""

from __future__ import annotations

import asyncio

import pytest

from tradegraph.auth.principal import Principal
from tradegraph.auth.tokens import AccessToken, issue_access_token
from tradegraph.documents import Role
from tradegraph.web.caller_share import VERIFIED_TOKEN, CallerShares, ShareExhausted, caller_of


class Held:
    """A request that runs in its caller's share until released."""

    def __init__(self, shares: CallerShares, caller: str, name: str, log: list[str]) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.task = asyncio.create_task(self._run(shares, caller, name, log))

    async def _run(self, shares: CallerShares, caller: str, name: str, log: list[str]) -> None:
        async with shares.turn(caller):
            log.append(name)
            self.started.set()
            await self.release.wait()


async def settle() -> None:
    for _ in range(5):  # lets every ready task take its next step
        await asyncio.sleep(0)


async def test_a_caller_runs_at_most_its_share_and_the_rest_start_in_arrival_order() -> None:
    shares = CallerShares(per_caller=2, max_waiting=10)
    log: list[str] = []
    held = [Held(shares, "user:a", f"a{n}", log) for n in range(5)]
    await settle()
    assert log == ["a0", "a1"]
    assert (shares.running("user:a"), shares.waiting()) == (2, 3)

    other = Held(shares, "user:b", "b0", log)
    await other.started.wait()  # another caller is not held behind the flood
    assert log == ["a0", "a1", "b0"]

    held[1].release.set()
    await held[2].started.wait()
    held[0].release.set()
    await held[3].started.wait()
    assert log == ["a0", "a1", "b0", "a2", "a3"]
    assert shares.running("user:a") == 2

    for request in [*held, other]:
        request.release.set()
    await asyncio.gather(*(request.task for request in [*held, other]))
    assert log[-1] == "a4"
    assert (shares.running(), shares.waiting(), shares.callers()) == (0, 0, 0)


async def test_past_the_waiting_limit_a_request_is_refused_and_nothing_is_counted() -> None:
    shares = CallerShares(per_caller=1, max_waiting=1)
    log: list[str] = []
    first, second = Held(shares, "user:a", "a0", log), Held(shares, "user:a", "a1", log)
    await settle()
    with pytest.raises(ShareExhausted):
        async with shares.turn("user:a"):
            pytest.fail("a refused request must not run")
    assert (shares.running(), shares.waiting(), shares.refused) == (1, 1, 1)
    first.release.set()
    second.release.set()
    await asyncio.gather(first.task, second.task)
    assert log == ["a0", "a1"]
    assert shares.callers() == 0


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    shares = CallerShares(per_caller=1, max_waiting=5)
    log: list[str] = []
    running, waiter, last = (Held(shares, "user:a", f"a{n}", log) for n in range(3))
    await settle()
    waiter.task.cancel()
    await settle()
    assert shares.waiting() == 1
    running.release.set()
    await last.started.wait()
    assert log == ["a0", "a2"]
    last.release.set()
    await last.task
    assert (shares.running(), shares.callers()) == (0, 0)


@pytest.mark.parametrize(
    "before_leaving",
    [
        pytest.param(True, id="cancelled-while-a-release-passes-over-it"),
        pytest.param(False, id="cancelled-as-its-turn-came"),
    ],
)
async def test_a_waiter_cancelled_around_a_release_passes_the_turn_on(
    before_leaving: bool,
) -> None:
    """The next waiter is cancelled in the same step as the release: before it (its future is
    cancelled and the release passes over it) or after (the turn was handed to it and it is
    cancelled before it resumes). Either way the turn reaches the one after, and nothing is
    left counted."""
    shares = CallerShares(per_caller=1, max_waiting=5)
    log: list[str] = []
    release = asyncio.Event()

    async def run_then_cancel_the_next() -> None:
        async with shares.turn("user:a"):
            log.append("a0")
            await release.wait()
            if before_leaving:
                cancelled.task.cancel()
        if not before_leaving:
            cancelled.task.cancel()

    first = asyncio.create_task(run_then_cancel_the_next())
    await settle()
    cancelled, last = Held(shares, "user:a", "a1", log), Held(shares, "user:a", "a2", log)
    await settle()
    release.set()
    await last.started.wait()
    assert log == ["a0", "a2"]
    assert cancelled.task.cancelled()
    last.release.set()
    await asyncio.gather(first, last.task)
    assert (shares.running(), shares.waiting(), shares.callers()) == (0, 0, 0)


def test_the_caller_is_a_valid_tokens_user_else_the_client_address() -> None:
    secret = "s" * 40
    token = issue_access_token(Principal("u1", "a@example.com", Role.TRADER), secret, 60)

    def scope(authorization: str | None) -> dict[str, object]:
        headers = [(b"authorization", authorization.encode())] if authorization else []
        return {"headers": headers, "client": ("192.0.2.7", 5000)}

    verified = scope(f"Bearer {token}")
    assert caller_of(verified, secret) == "user:u1"
    # kept for the view's context, which then does not verify the token again
    kept = verified[VERIFIED_TOKEN]
    assert isinstance(kept, tuple)
    assert kept[0] == f"Bearer {token}"
    assert isinstance(kept[1], AccessToken)
    assert kept[1].principal.user_id == "u1"
    assert caller_of(scope(f"Bearer {token}"), "t" * 40) == "address:192.0.2.7"  # forged
    assert caller_of(scope("Bearer nonsense"), secret) == "address:192.0.2.7"
    assert caller_of(scope(None), secret) == "address:192.0.2.7"
