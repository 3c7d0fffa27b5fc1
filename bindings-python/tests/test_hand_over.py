"""``Election.hand_over_to``: the leader names its successor, which leads next with a greater
token; the old leader's term ends as ``preempted``. Bad ids and callers that do not lead get
clear errors and change nothing."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Tuple

import pytest

import elect
from conftest import WAIT


def test_the_leader_hands_over_to_the_named_member(tmp_path: Path, name: str) -> None:
    uri = f"file://{tmp_path}/elect"
    revoked: "queue.Queue[Tuple[int, str]]" = queue.Queue()
    elected: "queue.Queue[int]" = queue.Queue()
    joined: "queue.Queue[str]" = queue.Queue()
    with elect.Election(uri, name, id="a", ttl=2.0, renew=0.5, retry=0.2,
                        on_revoked=lambda t, r: revoked.put((t, r)),
                        on_member_joined=lambda m: joined.put(m.id)) as a, \
            elect.Election(uri, name, id="b", ttl=2.0, renew=0.5, retry=0.2,
                           on_elected=elected.put) as b:
        a.start()
        assert a.wait_leader(WAIT)
        t1 = a.fencing_token
        assert t1 is not None
        b.start()

        with pytest.raises(elect.NotLeaderError, match="does not lead"):
            b.hand_over_to("a")
        with pytest.raises(elect.InvalidArgumentError, match="`nobody` is not a member"):
            a.hand_over_to("nobody")
        with pytest.raises(elect.InvalidArgumentError, match="own id"):
            a.hand_over_to("a")
        assert a.is_leader and a.fencing_token == t1, "nothing changed"

        # `a` checks against the members it was told of.
        while joined.get(timeout=WAIT) != "b":
            pass
        a.hand_over_to("b")
        assert not a.is_leader, "returns after giving up"
        t2 = elected.get(timeout=WAIT)
        assert t2 > t1, f"tokens grow: {t1} then {t2}"
        assert b.is_leader and b.fencing_token == t2
        assert revoked.get(timeout=WAIT) == (t1, "preempted")
        assert a.stats().revocations["preempted"] == 1
