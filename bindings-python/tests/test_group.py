"""elect.Group from Python, on the file store: two instances in one process share four shards
2/2, and when one closes the other takes all four; events carry the shard; bad input is refused
naming the bad part. (The 3x12 kill-and-return scenario runs in Rust, core/tests/contract.rs.)"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

import elect
from conftest import WAIT


class Leads:
    """Which shards each instance leads, from its callbacks."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.held: Dict[str, Set[int]] = {}
        self.terms: List[Tuple[str, int, int]] = []

    def callbacks(self, who: str) -> Dict[str, object]:
        self.held[who] = set()

        def elected(shard: int, term: int) -> None:
            with self.cond:
                self.held[who].add(shard)
                self.terms.append((who, shard, term))
                self.cond.notify_all()

        def revoked(shard: int, term: int, reason: str) -> None:
            with self.cond:
                self.held[who].discard(shard)
                self.terms.append((who, shard, -term))
                self.cond.notify_all()

        return {"on_elected": elected, "on_revoked": revoked}

    def wait(self, want: Dict[str, int]) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: {w: len(s) for w, s in self.held.items() if w in want} == want, WAIT)
            assert ok, f"wanted {want}, have {self.held}"


def test_two_instances_share_the_shards_and_one_takes_all_when_the_other_leaves(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}/group"
    leads = Leads()
    a = elect.Group(uri, "jobs", 4, id="a", ttl=2.0, renew=0.5, **leads.callbacks("a"))  # type: ignore[arg-type]
    b = elect.Group(uri, "jobs", 4, id="b", ttl=2.0, renew=0.5, **leads.callbacks("b"))  # type: ignore[arg-type]
    try:
        leads.wait({"a": 2, "b": 2})
        assert sorted(a.leading + b.leading) == [0, 1, 2, 3]
        for shard in a.leading:
            assert a.is_leader(shard) and not b.is_leader(shard)
            assert a.fencing_token(shard) is not None and b.fencing_token(shard) is None
        b.close()
        leads.wait({"a": 4})
        with leads.cond:  # a shard may still be moving from a hand-over begun before b left
            assert leads.cond.wait_for(lambda: a.leading == [0, 1, 2, 3], WAIT), (a.leading, leads.terms)
        assert (a.id, a.name, a.shards) == ("a", "jobs", 4)
    finally:
        a.close()
        b.close()
    assert a.leading == []


def test_bad_input_names_the_bad_part(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}/group"
    with pytest.raises(elect.InvalidArgumentError, match="shards"):
        elect.Group(uri, "jobs", 0)
    with pytest.raises(elect.InvalidArgumentError, match="cap"):
        elect.Group(uri, "jobs", 3, cap=0)
    with pytest.raises(TypeError, match="shards"):
        elect.Group(uri, "jobs", "3")  # type: ignore[arg-type]
