"""Lease-aware work: the lease remaining, the per-term scope that is cancelled the moment the
term ends (a threading.Event and asyncio cancellation), leader_only's minimum lease, and the
``drain`` option: resign() returns only after the term's work has left its block."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import List

import pytest

import elect
from conftest import WAIT, OpenElection


def test_lease_remaining_is_bounded_by_ttl_while_leading(open_election: OpenElection) -> None:
    e = open_election("a", ttl=2.0, silence=30.0)  # stays out of line after resigning
    assert e.lease_remaining is None
    e.start()
    assert e.wait_leader(WAIT)
    left = e.lease_remaining
    assert left is not None and 0.0 < left <= 2.0
    with e.leadership(timeout=WAIT) as lead:
        remaining = lead.remaining
        assert remaining is not None and 0.0 < remaining <= 2.0
        e.resign()
        assert lead.lost.wait(WAIT)
        assert lead.remaining is None
    assert e.lease_remaining is None


def test_the_term_is_cancelled_before_the_revoked_event_is_delivered(open_election: OpenElection) -> None:
    release = threading.Event()
    e = open_election("a", on_revoked=lambda term, reason: release.wait(WAIT))  # blocks delivery
    try:
        with e.leadership(timeout=WAIT) as lead:
            threading.Thread(target=e.resign, daemon=True).start()
            assert lead.lost.wait(WAIT), "the scope did not see the end of the term"
            assert not lead.active
    finally:
        release.set()


def test_asyncio_work_is_cancelled_when_the_term_ends(open_election: OpenElection) -> None:
    e = open_election("a")
    cancelled: List[bool] = []

    async def work() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        async with e.leadership_async(timeout=WAIT) as lead:
            asyncio.get_running_loop().call_later(0.2, lambda: threading.Thread(target=e.resign).start())
            with pytest.raises(elect.NotLeaderError):
                await asyncio.wait_for(lead.run(work()), WAIT)
            assert await lead.run(asyncio.sleep(0, result=7)) == 7 if lead.active else True

    asyncio.run(main())
    assert cancelled == [True]


def test_leader_only_does_not_start_a_run_without_the_minimum_lease(open_election: OpenElection) -> None:
    e = open_election("a", ttl=2.0)
    runs: List[int] = []

    @elect.leader_only(e, min_lease=5.0)
    def too_long(*, fencing_token: int = 0) -> str:
        runs.append(fencing_token)
        return "ran"

    @elect.leader_only(e, min_lease=0.2)
    def fits(*, fencing_token: int = 0) -> str:
        runs.append(fencing_token)
        return "ran"

    assert fits() is None, "not leading yet"
    e.start()
    assert e.wait_leader(WAIT)
    assert too_long() is None, "a 5 s run cannot finish within a 2 s lease"
    assert fits() == "ran"
    assert runs == [e.fencing_token]
    with pytest.raises(elect.InvalidArgumentError):
        elect.leader_only(e, min_lease=-1.0)(lambda: None)()


def test_drain_waits_for_the_work_to_leave_its_block(open_election: OpenElection) -> None:
    e = open_election("a", ttl=3.0, drain=5.0)
    e.start()
    assert e.wait_leader(WAIT)
    entered, ended = threading.Event(), threading.Event()

    def work() -> None:
        with e.leadership(timeout=WAIT) as lead:
            entered.set()
            lead.lost.wait(WAIT)
            time.sleep(0.3)  # the wind-down (flushing a batch) the drain must wait for
            ended.set()

    worker = threading.Thread(target=work)
    worker.start()
    assert entered.wait(WAIT)
    e.resign()
    assert ended.is_set(), "resign() gave up the lease before the work left its block"
    worker.join(WAIT)
