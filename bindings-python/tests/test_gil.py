"""Blocking calls release the GIL: another Python thread keeps running meanwhile."""

from __future__ import annotations

import threading

from conftest import WAIT, OpenElection


def test_wait_leader_releases_the_gil(open_election: OpenElection) -> None:
    holder = open_election("holder")
    holder.start()
    assert holder.wait_leader(WAIT)
    waiter = open_election("waiter")
    waiter.start()

    count = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = count
        assert waiter.wait_leader(1.0) is False  # the holder keeps the leadership
        during = count - before
    finally:
        stop.set()
        spinner.join()
    # Holding the GIL for that second would leave the spinner a few switch intervals at most.
    assert during > 100_000, f"the other thread advanced only {during} times in 1s"
