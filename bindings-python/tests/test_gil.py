"""Blocking calls release the GIL: another Python thread keeps running meanwhile."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

from conftest import WAIT, Held


def test_wait_leader_releases_the_gil(held: Held) -> None:
    holder, waiter = held

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


def test_ctrl_c_interrupts_an_endless_wait(store_uri: str, name: str) -> None:
    """wait_leader(None) without the GIL still lets Python's SIGINT handler raise."""
    script = (
        "import elect, sys\n"
        "holder = elect.Election(sys.argv[1], sys.argv[2], id='holder')\n"
        "holder.start(); assert holder.wait_leader(15.0)\n"
        "waiter = elect.Election(sys.argv[1], sys.argv[2], id='waiter')\n"
        "waiter.start()\n"
        "print('waiting', flush=True)\n"
        "try:\n"
        "    waiter.wait_leader()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, store_uri, name], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "waiting\n"
    time.sleep(0.2)  # let it enter the wait; the interrupt is the subject, not an event
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=WAIT)
    assert out == "interrupted\n" and proc.returncode == 0
