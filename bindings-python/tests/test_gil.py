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


WAITER = (
    "import elect, signal, sys\n"
    "signal.signal(signal.SIGUSR1, lambda *_: print('handled', flush=True))\n"
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


def blocked_waiter(store_uri: str, name: str) -> "subprocess.Popen[str]":
    """A process whose main thread sleeps in ``wait_leader()`` (no timeout) behind a holder."""
    proc = subprocess.Popen([sys.executable, "-c", WAITER, store_uri, name], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "waiting\n"
    # Asleep in the wait's condition variable (a futex), not on its way there.
    wchan = f"/proc/{proc.pid}/task/{proc.pid}/wchan"
    deadline = time.monotonic() + WAIT
    while "futex" not in open(wchan).read():
        assert time.monotonic() < deadline, "wait_leader never blocked"
        time.sleep(0.001)
    return proc


def test_ctrl_c_interrupts_an_endless_wait(store_uri: str, name: str) -> None:
    """SIGINT wakes wait_leader(None) at once, without the GIL, and Python raises."""
    proc = blocked_waiter(store_uri, name)
    proc.send_signal(signal.SIGINT)
    # A wait that neither polls nor is woken would never end: await the exit.
    out, _ = proc.communicate(timeout=WAIT)
    assert out == "interrupted\n" and proc.returncode == 0


def test_a_handler_that_returns_lets_the_wait_go_on(store_uri: str, name: str) -> None:
    """A signal's handler runs during the wait; when it does not raise, the wait carries on."""
    proc = blocked_waiter(store_uri, name)
    assert proc.stdout is not None
    proc.send_signal(signal.SIGUSR1)
    assert proc.stdout.readline() == "handled\n"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=WAIT)
    assert out == "interrupted\n" and proc.returncode == 0
