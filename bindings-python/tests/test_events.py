"""Callbacks: in order, one at a time, on the library's callback threads with the GIL, and an exception in one is
reported without stopping the election."""

from __future__ import annotations

import logging
import queue
import sys
import threading
from typing import Any, List, Tuple

import pytest

import elect
from conftest import WAIT, OpenElection


def test_events_arrive_in_order_on_the_library_s_callback_threads(open_election: OpenElection) -> None:
    seen: "queue.Queue[Tuple[str, Any, str]]" = queue.Queue()

    def record(kind: str) -> Any:
        return lambda *args: seen.put((kind, args, threading.current_thread().name))

    e = open_election("a", on_elected=record("elected"), on_revoked=record("revoked"),
                      on_leader_changed=record("leader"))
    e.start()
    assert e.wait_leader(WAIT)
    t1 = e.fencing_token
    assert t1 is not None
    e.resign()  # with silence 0 it campaigns again and wins the next term
    assert e.wait_leader(WAIT)
    t2 = e.fencing_token
    assert t2 is not None and t2 > t1
    e.close()

    events: List[Tuple[str, Any, str]] = []
    while not seen.empty():
        events.append(seen.get())
    mine = [(k, a) for k, a, _ in events if k != "leader"]
    assert mine == [("elected", (t1,)), ("revoked", (t1, "resigned")),
                    ("elected", (t2,)), ("revoked", (t2, "closed"))]
    threads = {t for _, _, t in events}
    # A pool serves every election: one election's events may come on different threads,
    # never the caller's, and never two at once (the order above).
    assert threading.current_thread().name not in threads
    assert all(t == "elect-events" for t in threads), threads


def test_exception_in_a_callback_is_reported_and_the_election_carries_on(
    open_election: OpenElection, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    unraisable: "queue.Queue[Any]" = queue.Queue()
    monkeypatch.setattr(sys, "unraisablehook", unraisable.put)
    revoked: "queue.Queue[int]" = queue.Queue()

    calls: List[int] = []

    def boom(term: int) -> None:
        calls.append(term)
        if len(calls) == 1:  # only once: later terms may come after this test's hook is gone
            raise RuntimeError(f"boom in term {term}")

    caplog.set_level(logging.ERROR, logger="elect")
    e = open_election("a", on_elected=boom, on_revoked=lambda term, reason: revoked.put(term))
    e.start()
    assert e.wait_leader(WAIT)
    hook = unraisable.get(timeout=WAIT)
    assert isinstance(hook.exc_value, RuntimeError) and "boom in term" in str(hook.exc_value)
    assert hook.object is boom
    assert any("boom in term" in r.getMessage() for r in caplog.records if r.name == "elect")
    # Still leading, and later events still arrive.
    assert e.is_leader
    token = e.fencing_token
    e.resign()
    assert revoked.get(timeout=WAIT) == token


def test_observer_sees_leader_changes(open_election: OpenElection) -> None:
    changes: "queue.Queue[Any]" = queue.Queue()
    watcher = open_election("w", on_leader_changed=changes.put)
    watcher.observe()
    leader = open_election("a", value="10.0.0.1:80")
    leader.start()
    assert leader.wait_leader(WAIT)
    token = leader.fencing_token
    assert token is not None
    while True:
        info = changes.get(timeout=WAIT)
        if info is not None:
            break
    assert info == elect.LeaderInfo("a", "10.0.0.1:80", token)
    assert watcher.leader == info
    assert not watcher.is_leader
    leader.close()
    while info is not None:
        info = changes.get(timeout=WAIT)
