#!/usr/bin/env python3
"""redis-py's Lock as a leader election, measured the way redis_bench measures elect.

    python3 bench/redis/redis_py_lock.py --uri redis://127.0.0.1:PORT/0 [--rounds 50] [--ttl 1.0]

Three candidate processes loop on `Lock(name, timeout=ttl).acquire(blocking=True)` with the
library's default polling interval (`sleep=0.1`), renewing with `extend` every ttl/3 while they
hold it. Failover time is measured on CLOCK_MONOTONIC (time.monotonic_ns, the clock elect's
agents stamp with): from just before the leader releases (or is SIGKILLed) to the moment the
next candidate's acquire returns (a releasing candidate competes again only once the next
leader is in, so the handover is to another process). Prints the same table as `redis_bench failover`.
"""

import argparse
import multiprocessing as mp
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings-python", "bench"))
from _stats import nearest_rank  # noqa: E402  (the one percentile definition, bench/README.md)


def candidate(uri, ttl, name, acquired, commands):
    import redis

    r = redis.Redis.from_url(uri)
    lock = r.lock(name, timeout=ttl)  # sleep=0.1: redis-py's default polling interval
    while True:
        lock.acquire(blocking=True)
        acquired.put((os.getpid(), time.monotonic_ns()))
        # Lead until told to release; renew meanwhile.
        while True:
            try:
                cmd = commands.get(timeout=ttl / 3)
            except Exception:
                lock.extend(ttl, replace_ttl=True)
                continue
            if cmd == "release":
                lock.release()
                # Step back until the next leader is in (elect's `silence`), so that the
                # handover measured is to another candidate, which learns of it by polling.
                while commands.get() != "compete":
                    pass
                break


def percentiles(samples):
    v = sorted(samples)
    return nearest_rank(v, 50), nearest_rank(v, 99), v[-1], sum(v) // len(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--ttl", type=float, default=1.0)
    args = ap.parse_args()
    import redis

    print(f"redis-py {redis.__version__} Lock: {args.rounds} rounds per case, 3 candidate "
          f"processes, timeout={args.ttl}s, polling sleep=0.1s (default)")
    print(f"{'case':<20} {'p50':>10} {'p99':>10} {'max':>10} {'mean':>10}")
    ctx = mp.get_context("fork")
    for case in ("graceful release", "SIGKILL of leader"):
        name = f"pylock-{os.getpid()}-{case.split()[0]}"
        acquired = ctx.Queue()
        procs = {}

        def spawn():
            q = ctx.Queue()
            p = ctx.Process(target=candidate, args=(args.uri, args.ttl, name, acquired, q), daemon=True)
            p.start()
            procs[p.pid] = (p, q)

        for _ in range(3):
            spawn()
        leader, _ = acquired.get(timeout=60)
        samples = []
        for _ in range(args.rounds):
            # A random pause, so that releases fall at random points of the waiters' polling.
            time.sleep(0.04 + random.random() * 0.1)
            start = time.monotonic_ns()
            if case.startswith("graceful"):
                procs[leader][1].put("release")
            else:
                os.kill(leader, signal.SIGKILL)
                procs.pop(leader)[0].join()
            while True:
                pid, at = acquired.get(timeout=60)
                if pid != leader:
                    break
            samples.append(at - start)
            if case.startswith("graceful"):
                procs[leader][1].put("compete")
            if not case.startswith("graceful"):
                spawn()
            leader = pid
        for p, _ in procs.values():
            p.kill()
        ms = lambda ns: f"{ns / 1e6:.2f} ms"
        p50, p99, mx, mean = percentiles(samples)
        print(f"{case:<20} {ms(p50):>10} {ms(p99):>10} {ms(mx):>10} {ms(mean):>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
