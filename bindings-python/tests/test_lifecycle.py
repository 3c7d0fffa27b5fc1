"""An election nobody closed: dropped by the garbage collector or left open at interpreter exit,
it still resigns, so the next candidate takes over at once instead of after the ttl."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from typing import List

import elect
from conftest import WAIT, OpenElection

#: Far below the 30s ttl used here: a takeover this fast means the leader resigned.
PROMPT = 5.0


def test_dropped_election_resigns(open_election: OpenElection, store_uri: str, name: str) -> None:
    leader = elect.Election(store_uri, name, id="dropped", ttl=30.0, renew=1.0)
    leader.start()
    assert leader.wait_leader(WAIT)
    successor = open_election("successor", ttl=30.0, renew=1.0)
    successor.start()
    started = time.monotonic()
    del leader  # the last reference: the native election closes (and resigns) on the way out
    gc.collect()
    assert successor.wait_leader(WAIT)
    assert time.monotonic() - started < PROMPT


def test_interpreter_exit_resigns(store_uri: str, name: str) -> None:
    script = (
        "import elect, sys\n"
        "e = elect.Election(sys.argv[1], sys.argv[2], id='exiting', ttl=30.0, renew=1.0,\n"
        "                   on_revoked=lambda t, r: print('revoked', r, flush=True))\n"
        "e.start()\n"
        "assert e.wait_leader(15.0)\n"
        "print('leading', flush=True)\n"
        "sys.stdin.readline()\n"  # exit, without close(), when told
    )
    with elect.Election(store_uri, name, id="successor", ttl=30.0, renew=1.0) as successor:
        proc = subprocess.Popen([sys.executable, "-c", script, store_uri, name],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == "leading\n"
        successor.start()
        started = time.monotonic()
        proc.stdin.close()
        proc.wait(timeout=WAIT)
        out = proc.stdout.read()
        assert proc.returncode == 0
        assert out == "revoked closed\n", "the last callbacks still ran at exit"
        assert successor.wait_leader(WAIT)
        assert time.monotonic() - started < PROMPT


def test_open_and_close_race_with_callbacks(open_election: OpenElection) -> None:
    """Closing while the dispatcher runs Python callbacks, from several threads at once, must
    neither deadlock (close waits for the dispatcher, which needs the GIL) nor lose the end."""
    import threading

    ended: List[str] = []

    def churn(worker: int) -> None:
        for round in range(10):
            e = open_election(f"w{worker}-{round}", on_leader_changed=lambda leader: time.sleep(0.001),
                              on_revoked=lambda term, reason: ended.append(reason))
            e.start()
            # The first round of each worker waits for leadership, so that some close() always
            # races a term's callbacks; the others close at whatever point they have reached.
            e.wait_leader(WAIT if round == 0 else 0.05)
            e.close()

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "close() deadlocked"
    assert ended and set(ended) <= {"closed", "resigned"}
