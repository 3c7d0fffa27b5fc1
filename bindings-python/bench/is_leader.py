"""CPU cost of ``Election.is_leader`` (and the raw native call) from Python, per call.

    python bindings-python/bench/is_leader.py            # after installing a release wheel
    python bindings-python/bench/is_leader.py --zk-uri "$ELECT_ZK_URI" --redis-uri "$ELECT_REDIS_URI"

Times batches of calls on a leading election (file backend) and prints the median and p99 of
the per-call time over the batches, next to two pure-Python baselines for scale: reading a
plain attribute and ``threading.Event.is_set()`` (what a hand-written "am I leader" flag
costs).

With store URIs and tooz installed, it also times what a tooz user has for the same question,
since tooz keeps no local leadership state: ``get_leader(group)`` on ZooKeeper (a read of the
lock's contenders) and, on Redis, whether the leader lock is still ours (a GET of the key;
tooz has no ``get_leader`` there).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator, List, Tuple
from urllib.parse import urlsplit

import elect
from _stats import median_p99, result_line

BATCH = 10_000
BATCHES = 300


# Calls that go to the server are timed in smaller batches.
ROUND_TRIP_BATCH = 100


def per_call_ns(fn: Callable[[], object], batch: int = BATCH) -> List[float]:
    samples = []
    for _ in range(BATCHES):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch)
    return samples


# With --json, the rows go out as JSON lines (scripts/bench collects them), the table to stderr.
JSON = False


def report(what: str, samples: List[float]) -> None:
    median, p99 = median_p99(samples)
    print(f"{what:<44} median {median:9.1f} ns   p99 {p99:9.1f} ns", file=sys.stderr if JSON else sys.stdout)
    if JSON:
        lib, call = what.split(": ", 1)
        store = lib.split("/")[1] if "/" in lib else "file"
        print(result_line("is_leader", samples, "ns", lang="python", lib=lib.split("/")[0],
                          what=call, store=store), flush=True)


class Flag:
    leading = True


@contextmanager
def tooz_leader(scheme: str, uri: str) -> Iterator[Tuple[str, Callable[[], object]]]:
    """A tooz coordinator elected leader of a fresh group, and its "am I leader" check."""
    from tooz import coordination

    me = b"bench-" + uuid.uuid4().hex[:8].encode()
    coord = coordination.get_coordinator(f"{scheme}://{urlsplit(uri).netloc}?timeout=10", me)
    coord.start(start_heart=True)
    group = me
    coord.create_group(group).get()
    coord.join_group(group).get()
    coord.watch_elected_as_leader(group, lambda _event: None)
    coord.run_watchers()
    try:
        if scheme == "zookeeper":
            yield "tooz/zk: get_leader(group) == me", lambda: coord.get_leader(group).get() == me
        else:
            # tooz's redis driver has no get_leader() and no public handle on the lock it won:
            # the lock's own owned() (a GET of the key) is the nearest thing to a check.
            (lock,) = coord._acquired_locks
            yield "tooz/redis: leader lock owned() (a GET)", lock._lock.owned
    finally:
        coord.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zk-uri", default=os.environ.get("ELECT_ZK_URI"))
    parser.add_argument("--redis-uri", default=os.environ.get("ELECT_REDIS_URI"))
    parser.add_argument("--json", action="store_true", help="elect's rows as JSON lines on stdout, the table on stderr")
    args = parser.parse_args()
    global JSON
    JSON = args.json
    with tempfile.TemporaryDirectory() as d, elect.Election(f"file://{d}", "bench") as e:
        e.start()
        assert e.wait_leader(10.0)
        native = e._native
        flag, event = Flag(), threading.Event()
        event.set()
        print(f"python {sys.version.split()[0]}, {BATCHES} batches of {BATCH} calls", file=sys.stderr if JSON else sys.stdout)
        report("elect: e.is_leader (property)", per_call_ns(lambda: e.is_leader))
        report("elect: e._native.is_leader() (raw)", per_call_ns(native.is_leader))
        report("elect: e.fencing_token (property)", per_call_ns(lambda: e.fencing_token))
        report("baseline: plain attribute read", per_call_ns(lambda: flag.leading))
        report("baseline: threading.Event.is_set()", per_call_ns(event.is_set))
    for scheme, uri in (("zookeeper", args.zk_uri), ("redis", args.redis_uri)):
        if uri:
            with tooz_leader(scheme, uri) as (what, check):
                assert check(), f"{what}: tooz does not report this coordinator as leader"
                report(what, per_call_ns(check, ROUND_TRIP_BATCH))


if __name__ == "__main__":
    main()
