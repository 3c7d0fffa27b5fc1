"""leadership(): the block runs while leading and ends cleanly when the leadership is lost;
leader_only: a scheduled job runs only on the leader, with its fencing token."""

from __future__ import annotations

import threading
import time
from typing import List

import pytest

import elect
from conftest import WAIT, OpenElection


def test_leadership_block_ends_cleanly_when_leadership_is_lost(open_election: OpenElection) -> None:
    e = open_election("a")  # not started: leadership() starts the campaign itself
    batches: List[int] = []
    with e.leadership(timeout=WAIT) as lead:
        assert lead.active and lead.token == e.fencing_token
        threading.Timer(0.3, e.resign).start()  # someone else takes the leadership away
        started = time.monotonic()
        while lead.active:
            batches.append(lead.token)
            lead.sleep(30.0)  # must wake at the loss, not after 30s
        woke_after = time.monotonic() - started
        lead.check()  # raises NotLeaderError, which the with-block swallows
        pytest.fail("check() did not raise after the loss")
    assert batches and woke_after < 5.0
    assert not lead.active and lead.lost.is_set()


def test_leadership_reraises_not_leader_while_still_leading(open_election: OpenElection) -> None:
    e = open_election("a")
    with pytest.raises(elect.NotLeaderError):
        with e.leadership(timeout=WAIT):
            raise elect.NotLeaderError("a store refused us, but our lease is fine")
    assert e.is_leader


def test_leadership_times_out_and_can_resign_on_exit(open_election: OpenElection) -> None:
    holder = open_election("holder", silence=30.0)  # so that the other one wins after the resign
    other = open_election("other")
    with holder.leadership(timeout=WAIT, resign_on_exit=True) as lead:
        with pytest.raises(elect.TimeoutError):
            with other.leadership(timeout=0.3):
                pytest.fail("two leaderships at once")
    assert not lead.active
    with other.leadership(timeout=WAIT) as second:
        assert second.token > lead.token


def test_leader_only_runs_on_the_leader_with_its_token(open_election: OpenElection) -> None:
    leader = open_election("leader", silence=30.0)  # so that the follower wins after the resign
    follower = open_election("follower")
    leader.start()
    assert leader.wait_leader(WAIT)
    follower.start()
    runs: List[str] = []

    def job_for(e: elect.Election) -> "object":
        @elect.leader_only(e)
        def job(where: str, *, fencing_token: int = 0) -> int:
            runs.append(where)
            return fencing_token

        return job

    @elect.leader_only(leader)
    def plain() -> str:
        return "ran"

    assert job_for(leader)("leader") == leader.fencing_token  # type: ignore[operator]
    assert job_for(follower)("follower") is None  # type: ignore[operator]
    assert plain() == "ran"
    assert runs == ["leader"]
    leader.resign()
    assert follower.wait_leader(WAIT)
    assert job_for(leader)("old leader") is None  # type: ignore[operator]
    assert job_for(follower)("new leader") == follower.fencing_token  # type: ignore[operator]
    assert runs == ["leader", "new leader"]
