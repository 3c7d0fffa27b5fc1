#!/usr/bin/env python3
"""kazoo's Election recipe, measured the same way as elect's bench (bench/src/bin/zk_failover.rs).

    python3 kazoo_bench.py <zk://host:port> <rounds> <ttl-seconds>

graceful: the leader's function returns (kazoo's way to resign); time until the other
contender's function starts. crash: a contender process is killed with SIGKILL; time until
the waiting contender's function starts. Two sessions, as for elect.
"""
import os
import signal
import subprocess
import sys
import threading
import time

from kazoo.client import KazooClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings-python", "bench"))
from _stats import nearest_rank  # noqa: E402  (the one percentile definition, bench/README.md)


def report(what, v):
    v = sorted(v)
    pct = lambda p: nearest_rank(v, p * 100)
    ms = lambda s: s * 1000.0
    print(f"{what}: rounds={len(v)} p50={ms(pct(0.5)):.2f}ms p99={ms(pct(0.99)):.2f}ms "
          f"min={ms(v[0]):.2f}ms max={ms(v[-1]):.2f}ms", flush=True)


def client(hosts, ttl):
    c = KazooClient(hosts=hosts, timeout=ttl)
    c.start()
    return c


class Contender:
    """Campaigns in a loop; `resign()` makes the running leader function return."""

    def __init__(self, zk, path, ident):
        self.election = zk.Election(path, ident)
        self.elected = []  # monotonic times the leader function started
        self.leading = threading.Event()
        self.release = threading.Event()
        self.stop = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _lead(self):
        self.elected.append(time.monotonic())
        self.leading.set()
        self.release.wait()
        self.release.clear()
        self.leading.clear()

    def _loop(self):
        while not self.stop:
            self.election.run(self._lead)


def graceful(hosts, rounds, ttl):
    path = f"/kazoo-bench-{os.getpid()}/graceful"
    a = Contender(client(hosts, ttl), path, "a")
    a.leading.wait(30)
    b = Contender(client(hosts, ttl), path, "b")
    while len(a.election.contenders()) < 2:
        time.sleep(0.001)
    times = []
    for _ in range(rounds):
        leader, nxt = (a, b) if a.leading.is_set() else (b, a)
        n = len(nxt.elected)
        t0 = time.monotonic()
        leader.release.set()
        while len(nxt.elected) == n:
            time.sleep(0.0002)
        times.append(nxt.elected[-1] - t0)
        while len(nxt.election.contenders()) < 2:
            time.sleep(0.001)
    report("zk graceful handover (kazoo Election)", times)


def crash(hosts, rounds, ttl):
    path = f"/kazoo-bench-{os.getpid()}/crash"
    p = Contender(client(hosts, ttl), path, "parent")
    p.leading.wait(30)
    times = []
    for r in range(rounds):
        child = subprocess.Popen([sys.executable, __file__, "child", hosts, path, str(ttl)],
                                 stdout=subprocess.PIPE, text=True)
        while len(p.election.contenders()) < 2:
            time.sleep(0.001)
        p.release.set()
        assert child.stdout.readline().strip() == "elected"
        while len(p.election.contenders()) < 2:
            time.sleep(0.001)
        n = len(p.elected)
        t0 = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        while len(p.elected) == n:
            time.sleep(0.0002)
        times.append(p.elected[-1] - t0)
        child.wait()
    report("zk crash handover (kazoo Election)", times)


def child(hosts, path, ttl):
    zk = client(hosts, ttl)

    def lead():
        print("elected", flush=True)
        threading.Event().wait()

    zk.Election(path, f"child-{os.getpid()}").run(lead)


if __name__ == "__main__":
    if sys.argv[1] == "child":
        child(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        sys.exit(0)
    hosts = sys.argv[1].replace("zk://", "").split("/")[0]
    rounds, ttl = int(sys.argv[2]), float(sys.argv[3])
    graceful(hosts, rounds, ttl)
    crash(hosts, rounds, ttl)
    os._exit(0)  # contender threads block in kazoo; no orderly shutdown needed for a bench
