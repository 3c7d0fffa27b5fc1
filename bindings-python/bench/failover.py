"""Failover time from Python: elect against kazoo's ``Election`` recipe on the same ZooKeeper.

    pip install kazoo
    python bindings-python/bench/failover.py --zk-uri "$ELECT_ZK_URI" --rounds 10
    python bindings-python/bench/failover.py --uri file:///tmp/elect-bench --libs elect

Each round starts a leader process and a second candidate (each library in its own pair of
processes), then ends the leader either gracefully (elect: ``close()``; kazoo: the elected
function returns and the election is cancelled) or by SIGKILL, and measures from that moment
to the successor's "elected" (CLOCK_MONOTONIC is shared by all processes on Linux). Both
libraries get the same lease: elect ``ttl`` = kazoo session ``timeout``. Prints median and p99
(the max for fewer than 100 rounds) per library and mode.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

READY_PAUSE = 1.0  # lets the successor queue up behind the leader before the leader goes


def candidate(args: argparse.Namespace) -> None:
    """One candidate process: prints `elected <ns>` when it leads, leaves on `go` from stdin."""
    leave = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), leave.set()), daemon=True).start()
    if args.candidate == "elect":
        import elect

        with elect.Election(args.uri, args.name, id=args.id, ttl=args.ttl) as e:
            e.start()
            print("campaigning", flush=True)
            e.wait_leader()
            print(f"elected {time.monotonic_ns()}", flush=True)
            leave.wait()
        return
    from kazoo.client import KazooClient

    hosts, chroot = zk_hosts(args.uri)
    client = KazooClient(hosts=hosts + chroot, timeout=args.ttl)
    client.start()
    election = client.Election(f"/bench/{args.name}", args.id)

    def lead() -> None:
        print(f"elected {time.monotonic_ns()}", flush=True)
        leave.wait()

    print("campaigning", flush=True)
    election.run(lead)
    election.cancel()
    client.stop()


def zk_hosts(uri: str) -> Tuple[str, str]:
    parts = urlsplit(uri)
    return parts.netloc.rsplit("@", 1)[-1], parts.path.rstrip("/")


def one_round(lib: str, uri: str, ttl: float, crash: bool) -> float:
    name = f"bench-{uuid.uuid4().hex[:8]}"

    def spawn(id: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, __file__, "--candidate", lib, "--uri", uri, "--name", name,
             "--id", id, "--ttl", str(ttl)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    first = spawn("first")
    procs = [first]
    try:
        assert first.stdout is not None
        assert first.stdout.readline() == "campaigning\n"
        assert first.stdout.readline().startswith("elected ")
        second = spawn("second")
        procs.append(second)
        assert second.stdout is not None
        assert second.stdout.readline() == "campaigning\n"
        time.sleep(READY_PAUSE)
        start = time.monotonic_ns()
        if crash:
            first.send_signal(signal.SIGKILL)
        else:
            assert first.stdin is not None
            first.stdin.write("go\n")
            first.stdin.flush()
        line = second.stdout.readline()
        assert line.startswith("elected "), f"{lib}: the successor said {line!r}"
        return (int(line.split()[1]) - start) / 1e6
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def summary(samples: List[float]) -> str:
    s = sorted(samples)
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    return f"median {statistics.median(s):8.1f} ms   p99 {p99:8.1f} ms   (n={len(s)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidate", help=argparse.SUPPRESS)
    parser.add_argument("--id", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--uri", help="store for elect (default: --zk-uri)")
    parser.add_argument("--zk-uri", default=os.environ.get("ELECT_ZK_URI"), help="zk://host:port[/chroot]")
    parser.add_argument("--libs", default="elect,kazoo")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ttl", type=float, default=4.0, help="elect ttl = kazoo session timeout (s)")
    args = parser.parse_args()
    if args.candidate:
        candidate(args)
        return
    results: Dict[Tuple[str, str], List[float]] = {}
    for lib in args.libs.split(","):
        uri: Optional[str] = args.zk_uri if lib == "kazoo" else (args.uri or args.zk_uri)
        if not uri:
            print(f"{lib}: skipped (no store URI; set --zk-uri or ELECT_ZK_URI)")
            continue
        for crash in (False, True):
            mode = "sigkill" if crash else "graceful"
            results[(lib, mode)] = [one_round(lib, uri, args.ttl, crash) for _ in range(args.rounds)]
            print(f"{lib:<6} {mode:<9} {summary(results[(lib, mode)])}   on {urlsplit(uri).scheme}", flush=True)


if __name__ == "__main__":
    main()
