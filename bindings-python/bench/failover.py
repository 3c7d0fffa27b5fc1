"""Failover time from Python, side by side on the same servers: elect against kazoo's
``Election`` recipe and tooz (ZooKeeper), redis-py's ``Lock`` and tooz (Redis), python-etcd3's
``Lock`` (etcd).

    pip install kazoo tooz redis etcd3 "protobuf<4"
    scripts/servers/zk start pybench; scripts/servers/redis start pybench; scripts/servers/etcd start pybench
    python bindings-python/bench/failover.py --rounds 100 --ttl 2      # stores from ELECT_*_URI
    python bindings-python/bench/failover.py --uri file:///tmp/elect-bench --cases elect/file
    python bindings-python/bench/failover.py --json ...                # one JSON line per case and mode

Each round starts ``--candidates`` processes at once (3 by default; each case in processes of
its own), waits until one leads and the others are in line behind it, pauses a random time (so
the moment the leader goes is not in step with any poll or renewal cycle), then ends the leader
either gracefully or by SIGKILL, and measures from that moment to the successor's "elected"
(CLOCK_MONOTONIC is shared by all processes on Linux). Every case gets the same lease: elect
``ttl`` = kazoo session timeout = tooz ``timeout`` (session timeout on ZooKeeper, lock and
membership timeout on Redis) = redis-py lock ``timeout`` = python-etcd3 lock ``ttl``.

Graceful means each library's own way to leave: elect ``close()``; kazoo: the elected function
returns and the election is cancelled; tooz: ``stop()`` (releases the leader lock); redis-py and
python-etcd3: ``release()`` of the lock.

tooz elects only inside ``run_watchers()``, which the application must call in a loop; the
successor polls every ``--tooz-poll`` seconds (tooz's own examples use 1 s). tooz's etcd driver
(etcd3gw) has no leader election at all (``run_watchers`` raises ``NotImplemented``), so tooz
runs on ZooKeeper and Redis only. redis-py's blocking ``acquire`` polls every 100 ms (its
default ``sleep``); its holder extends the lock every ttl/3. python-etcd3's ``acquire`` waits
for the key's delete event; its holder refreshes the lease every ttl/3.

Prints median and p99 (the max for fewer than 100 rounds) per case and mode, and the ratio of
each peer's figures to elect's on the same store; with ``--json``, one JSON line per case and
mode instead (the lines scripts/bench collects into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from _stats import median_p99, result_line

# Which library runs on which store. The store's URI comes from --<store>-uri.
CASES = ("elect/zk", "kazoo/zk", "tooz/zk", "elect/redis", "redispy/redis", "tooz/redis",
         "elect/etcd", "etcd3/etcd")
# Each case's library by the name its users know, and the distribution it comes from.
LIBRARIES = {"elect": ("elect", "elect"), "kazoo": ("kazoo Election", "kazoo"),
             "tooz": ("tooz", "tooz"), "redispy": ("redis-py Lock", "redis"),
             "etcd3": ("python-etcd3 Lock", "etcd3")}
PATIENCE = 60.0


def candidate(args: argparse.Namespace) -> None:
    """One candidate process. Prints `in-line` once it waits behind a leader (or `elected <ns>`
    straight away when nobody leads), `elected <ns>` when it leads, and leaves on a line from
    stdin."""
    leave = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), leave.set()), daemon=True).start()
    {"elect": run_elect, "kazoo": run_kazoo, "tooz": run_tooz, "redispy": run_redispy,
     "etcd3": run_etcd3}[args.candidate](args, leave)


def elected() -> None:
    print(f"elected {time.monotonic_ns()}", flush=True)


def say_in_line_when(ready: Callable[[], bool], done: threading.Event) -> None:
    """Prints `in-line` once `ready()` holds, unless `done` (elected) comes first."""
    while not done.is_set():
        if ready():
            print("in-line", flush=True)
            return
        time.sleep(0.005)


def run_elect(args: argparse.Namespace, leave: threading.Event) -> None:
    import elect

    with elect.Election(args.uri, args.name, id=args.id, ttl=args.ttl) as e:
        e.start()
        leading = threading.Event()

        # In line: a member of the election while someone else leads.
        def ready() -> bool:
            leader = e.leader
            return (leader is not None and leader.id != args.id
                    and any(m.id == args.id for m in e.members()))

        threading.Thread(target=say_in_line_when, args=(ready, leading), daemon=True).start()
        e.wait_leader()
        leading.set()
        elected()
        leave.wait()


def run_kazoo(args: argparse.Namespace, leave: threading.Event) -> None:
    from kazoo.client import KazooClient

    hosts, chroot = zk_hosts(args.uri)
    client = KazooClient(hosts=hosts + chroot, timeout=args.ttl)
    client.start()
    election = client.Election(f"/bench/{args.name}", args.id)
    leading = threading.Event()

    def lead() -> None:
        leading.set()
        elected()
        leave.wait()

    # In line: our lock node is among the contenders, behind the leader's.
    ready = lambda: args.id in election.contenders()[1:]  # noqa: E731
    threading.Thread(target=say_in_line_when, args=(ready, leading), daemon=True).start()
    election.run(lead)
    election.cancel()
    client.stop()


def run_tooz(args: argparse.Namespace, leave: threading.Event) -> None:
    from tooz import coordination

    coord = coordination.get_coordinator(tooz_url(args.uri, args.ttl), args.id.encode())
    coord.start(start_heart=True)
    group = args.name.encode()
    try:
        coord.create_group(group).get()
    except coordination.GroupAlreadyExist:
        pass
    coord.join_group(group).get()
    leading = threading.Event()
    def on_elected(_event: object) -> None:
        leading.set()
        elected()

    coord.watch_elected_as_leader(group, on_elected)
    # Each run_watchers() tries the leader lock once; after the first try that lost, this
    # candidate is in line as far as tooz has lines.
    coord.run_watchers()
    if not leading.is_set():
        print("in-line", flush=True)
    while not leading.is_set():
        time.sleep(args.tooz_poll)
        coord.run_watchers()
    leave.wait()
    coord.stop()


def run_redispy(args: argparse.Namespace, leave: threading.Event) -> None:
    import redis

    lock = redis.Redis.from_url(args.uri).lock(f"bench:{args.name}", timeout=args.ttl)
    if not lock.acquire(blocking=False):
        print("in-line", flush=True)
        lock.acquire(blocking=True)  # polls every `sleep`, 0.1 s by default
    elected()
    while not leave.wait(args.ttl / 3):
        lock.extend(args.ttl, replace_ttl=True)
    lock.release()


def run_etcd3(args: argparse.Namespace, leave: threading.Event) -> None:
    import etcd3

    host, port = urlsplit(args.uri).netloc.rsplit("@", 1)[-1].split(",")[0].rsplit(":", 1)
    # etcd leases count whole seconds.
    lock = etcd3.client(host=host, port=int(port)).lock(args.name, ttl=max(1, round(args.ttl)))
    if not lock.acquire(timeout=0):
        print("in-line", flush=True)
        # acquire() waits for the key's delete event; a delete that falls between its failed
        # try and the start of its watch is missed until the timeout, so wait in ttl slices.
        while not lock.acquire(timeout=args.ttl):
            pass
    elected()
    while not leave.wait(args.ttl / 3):
        lock.refresh()
    lock.release()


def zk_hosts(uri: str) -> Tuple[str, str]:
    parts = urlsplit(uri)
    return parts.netloc.rsplit("@", 1)[-1], parts.path.rstrip("/")


def tooz_url(uri: str, ttl: float) -> str:
    parts = urlsplit(uri)
    scheme = {"zk": "zookeeper", "redis": "redis"}[parts.scheme]
    # tooz takes whole seconds (both drivers parse the option with int()).
    return f"{scheme}://{parts.netloc}?timeout={max(1, round(ttl))}"


def one_round(case: str, uri: str, args: argparse.Namespace, crash: bool) -> float:
    """One hand-over among `args.candidates` fresh processes of one case, in ms."""
    lib = case.split("/")[0]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    lines: "queue.Queue[Tuple[subprocess.Popen[str], str]]" = queue.Queue()

    def spawn(id: str) -> subprocess.Popen[str]:
        p = subprocess.Popen(
            [sys.executable, __file__, "--candidate", lib, "--uri", uri, "--name", name,
             "--id", id, "--ttl", str(args.ttl), "--tooz-poll", str(args.tooz_poll)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=lambda: [lines.put((p, line)) for line in iter(p.stdout.readline, "")]
                         + [lines.put((p, ""))], daemon=True).start()
        return p

    def next_line() -> Tuple[subprocess.Popen[str], str]:
        """The next line of a candidate; the leader may end (it was told to, or killed)."""
        while True:
            try:
                p, line = lines.get(timeout=PATIENCE)
            except queue.Empty:
                raise RuntimeError(f"{case}: no word from the candidates in {PATIENCE:.0f} s") from None
            if line:
                return p, line
            if p is not leader:
                raise RuntimeError(f"{case}: candidate {p.pid} exited")

    leader: Optional[subprocess.Popen[str]] = None
    procs = [spawn(f"c{i}") for i in range(args.candidates)]
    try:
        in_line = set()
        while leader is None or len(in_line - {leader}) < len(procs) - 1:
            p, line = next_line()
            if line.startswith("elected "):
                assert leader is None, f"{case}: two candidates elected at once"
                leader = p
            elif line == "in-line\n":
                in_line.add(p)
        time.sleep(random.uniform(0.0, args.ttl / 3 if crash else args.dephase))
        start = time.monotonic_ns()
        if crash:
            leader.send_signal(signal.SIGKILL)
        else:
            assert leader.stdin is not None
            leader.stdin.write("go\n")
            leader.stdin.flush()
        while True:
            p, line = next_line()
            if p is not leader and line.startswith("elected "):
                return (int(line.split()[1]) - start) / 1e6
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def store_uris(args: argparse.Namespace) -> Dict[str, Optional[str]]:
    uris: Dict[str, Optional[str]] = {"zk": args.zk_uri, "redis": args.redis_uri, "etcd": args.etcd_uri}
    if args.uri:
        uris[urlsplit(args.uri).scheme] = args.uri
    return uris


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidate", help=argparse.SUPPRESS)
    parser.add_argument("--id", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--uri", help="an elect store URI of any scheme (adds or overrides that store)")
    parser.add_argument("--zk-uri", default=os.environ.get("ELECT_ZK_URI"), help="zk://host:port[/chroot]")
    parser.add_argument("--redis-uri", default=os.environ.get("ELECT_REDIS_URI"), help="redis://host:port[/db]")
    parser.add_argument("--etcd-uri", default=os.environ.get("ELECT_ETCD_URI"), help="etcd://host:port[/prefix]")
    parser.add_argument("--cases", default=",".join(CASES), help="library/store pairs to run")
    parser.add_argument("--modes", default="graceful,sigkill", help="how the leader goes")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--crash-rounds", type=int, help="rounds of the sigkill mode (default: --rounds)")
    parser.add_argument("--candidates", type=int, default=3, help="candidate processes per round")
    parser.add_argument("--ttl", type=float, default=1.0, help="elect ttl = every peer's session/lock timeout (s)")
    parser.add_argument("--tooz-poll", type=float, default=0.01, help="interval of tooz's run_watchers() loop (s)")
    parser.add_argument("--dephase", type=float, default=0.2,
                        help="random pause before the leader goes gracefully, up to (s); before a "
                             "SIGKILL it is up to ttl/3, one renewal period of elect")
    parser.add_argument("--json", action="store_true", help="JSON lines on stdout, the table on stderr")
    args = parser.parse_args()
    if args.candidates < 2:
        parser.error("--candidates: at least 2 (a leader and a successor)")
    if args.candidate:
        candidate(args)
        return
    table = sys.stderr if args.json else sys.stdout
    uris = store_uris(args)
    # case -> the URI of its store, for the cases whose store was given.
    cases: Dict[str, str] = {}
    for case in args.cases.split(","):
        uri = uris.get(case.split("/")[1])
        if uri:
            cases[case] = uri
        else:
            print(f"{case}: skipped (no store URI)", file=table)
    print(f"{args.rounds} rounds ({args.crash_rounds or args.rounds} sigkill), {args.candidates} "
          f"candidates, ttl {args.ttl} s, tooz poll {args.tooz_poll * 1000:.0f} ms", file=table)
    for mode in args.modes.split(","):
        # Round-robin over the cases, so that drift in the machine's load hits every case alike.
        samples: Dict[str, List[float]] = {c: [] for c in cases}
        rounds = args.crash_rounds or args.rounds if mode == "sigkill" else args.rounds
        for _ in range(rounds):
            for case, uri in cases.items():
                samples[case].append(one_round(case, uri, args, crash=mode == "sigkill"))
        # Each store's elect figures, to give the peers on that store as ratios.
        elect_on: Dict[str, Tuple[float, float]] = {}
        for case in cases:
            lib, store = case.split("/")
            p50, p99 = median_p99(samples[case])
            if lib == "elect":
                elect_on[store] = (p50, p99)
            base = elect_on.get(store)
            ratio = "" if lib == "elect" or base is None else \
                f"   x{p50 / base[0]:.2f} / x{p99 / base[1]:.2f} of elect"
            print(f"{case:<12} {mode:<9} median {p50:8.1f} ms   p99 {p99:8.1f} ms{ratio}", file=table, flush=True)
            if args.json:
                label, dist = LIBRARIES[lib]
                print(result_line("handover", samples[case], "ms", lang="python", lib=label,
                                  version=version(dist), store=store,
                                  mode="crash" if mode == "sigkill" else mode, ttl_s=args.ttl,
                                  candidates=args.candidates), flush=True)


def version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
