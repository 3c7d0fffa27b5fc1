"""CPU cost of ``Election.is_leader`` (and the raw native call) from Python, per call.

    python bindings-python/bench/is_leader.py            # after installing a release wheel

Times batches of calls on a leading election (file backend) and prints the median and p99 of
the per-call time over the batches, next to two pure-Python baselines for scale: reading a
plain attribute and ``threading.Event.is_set()`` (what a hand-written "am I leader" flag
costs).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from typing import Callable, List

import elect

BATCH = 10_000
BATCHES = 300


def per_call_ns(fn: Callable[[], object]) -> List[float]:
    samples = []
    for _ in range(BATCHES):
        start = time.perf_counter_ns()
        for _ in range(BATCH):
            fn()
        samples.append((time.perf_counter_ns() - start) / BATCH)
    return sorted(samples)


def report(what: str, samples: List[float]) -> None:
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{what:<40} median {statistics.median(samples):7.1f} ns   p99 {p99:7.1f} ns")


class Flag:
    leading = True


def main() -> None:
    with tempfile.TemporaryDirectory() as d, elect.Election(f"file://{d}", "bench") as e:
        e.start()
        assert e.wait_leader(10.0)
        native = e._native
        flag, event = Flag(), threading.Event()
        event.set()
        print(f"python {sys.version.split()[0]}, {BATCHES} batches of {BATCH} calls")
        report("elect: e.is_leader (property)", per_call_ns(lambda: e.is_leader))
        report("elect: e._native.is_leader() (raw)", per_call_ns(native.is_leader))
        report("elect: e.fencing_token (property)", per_call_ns(lambda: e.fencing_token))
        report("baseline: plain attribute read", per_call_ns(lambda: flag.leading))
        report("baseline: threading.Event.is_set()", per_call_ns(event.is_set))


if __name__ == "__main__":
    main()
