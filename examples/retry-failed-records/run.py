"""Scenario (a), retry failed records: N instances, one leader retries, failovers, no duplicate.

    python run.py                                     # file store, records in SQLite
    python run.py --db postgresql://user:pw@host/db   # records in PostgreSQL
    python run.py --election etcd://127.0.0.1:2379    # the election on a server store

Starts the instances (worker.py), lets the leader retry a few records, then SIGKILLs it. On a
server store it then lets the next leader retry a few and SIGSTOPs it (a leader paused mid-work)
until a third has taken over, and SIGCONTs it: its pending write under the old token is
rejected by the SQL guard. (On the file store a paused leader keeps its lock, so that step is
skipped.) Waits until every record is processed, stops the instances and reports who processed
what under which token, and the duplicates. Exits 1 unless every record was processed exactly
once and the work went through at least two leaders.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from records import Records

HERE = Path(__file__).resolve().parent
#: Bounds every wait of the run: a failover takes one ttl plus a retry period.
WAIT = 60.0


class Fleet:
    """The worker processes and the lines they print, as (worker id, words)."""

    def __init__(self, argv: List[str], count: int) -> None:
        self.lines: "queue.Queue[Tuple[str, List[str]]]" = queue.Queue()
        self.procs: Dict[str, "subprocess.Popen[str]"] = {}
        self.stale: List[Tuple[str, List[str]]] = []
        for i in range(1, count + 1):
            me = f"w{i}"
            p = subprocess.Popen(argv + ["--id", me], stdout=subprocess.PIPE, text=True, bufsize=1)
            self.procs[me] = p
            threading.Thread(target=self._read, args=(me, p), daemon=True).start()

    def _read(self, me: str, p: "subprocess.Popen[str]") -> None:
        assert p.stdout is not None
        for line in p.stdout:
            self.lines.put((me, line.split()))

    def _note(self, me: str, words: List[str]) -> None:
        if words and words[0] == "stale":
            self.stale.append((me, words))
            print(f"  {me}: write of record {words[1]} under token {words[2]} rejected (highest {words[3]})", flush=True)

    def next(self, want: str, by: Optional[str] = None, exclude: Tuple[str, ...] = ()) -> Tuple[str, List[str]]:
        """The next line starting with ``want`` (from ``by``, not from ``exclude``)."""
        deadline = time.monotonic() + WAIT
        while True:
            me, words = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            self._note(me, words)
            if words and words[0] == want and (by is None or me == by) and me not in exclude:
                return me, words

    def signal(self, me: str, sig: int) -> None:
        os.kill(self.procs[me].pid, sig)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                p.terminate()
        for p in self.procs.values():
            p.wait(WAIT)
        while not self.lines.empty():  # a rejection printed at the very end still counts
            self._note(*self.lines.get())


def pause_the_next_leader(fleet: Fleet, first: str) -> None:
    """SIGSTOPs the current leader mid-work until another has taken over, then SIGCONTs it."""
    second, words = fleet.next("processed", exclude=(first,))
    for _ in range(2):
        fleet.next("processed", by=second)
    fleet.next("working", by=second)  # it has taken its next record and works on it
    fleet.signal(second, signal.SIGSTOP)
    print(f"SIGSTOP {second}, the next leader (token {words[2]}), mid-work", flush=True)
    third, words = fleet.next("processed", exclude=(first, second))
    fleet.signal(second, signal.SIGCONT)
    print(f"SIGCONT {second} after {third} took over (token {words[2]})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--election", help="store URI (default: a file store in the work directory)")
    parser.add_argument("--db", help="SQLite file or postgresql:// URI (default: SQLite in the work directory)")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--work", type=float, default=0.1, help="seconds one record takes")
    parser.add_argument("--no-fence", action="store_true", help="write without the SQL guard")
    args = parser.parse_args()
    if args.instances < 3:
        parser.error("--instances must be at least 3 (one is killed, one paused, one continues)")

    with tempfile.TemporaryDirectory(prefix="elect-retry-") as work:
        return run(args, work)


def run(args: argparse.Namespace, work: str) -> int:
    """The scenario, with the file store and the SQLite file (unless given) in ``work``."""
    election = args.election or f"file://{work}/elect"
    db = args.db or f"{work}/records.sqlite"
    records = Records(db)
    records.create(args.records)
    print(f"{args.records} failed records in {records.dialect}; {args.instances} instances on {election.split('?')[0].split('@')[-1]}")

    argv = [sys.executable, str(HERE / "worker.py"), "--election", election, "--db", db, "--every", "0.5", "--work", str(args.work)]
    argv += ["--no-fence"] if args.no_fence else []
    fleet = Fleet(argv, args.instances)
    try:
        first, words = fleet.next("processed")
        for _ in range(4):
            fleet.next("processed", by=first)
        fleet.signal(first, signal.SIGKILL)
        print(f"SIGKILL {first}, the leader (token {words[2]})", flush=True)
        if election.startswith("file:"):
            print("(file store: a paused leader keeps its flock and nobody takes over, so no SIGSTOP step)")
        else:
            pause_the_next_leader(fleet, first)
        deadline = time.monotonic() + WAIT
        while records.failed() and time.monotonic() < deadline:
            try:
                fleet.next("processed")
            except queue.Empty:
                break
    finally:
        fleet.stop()

    r = records.report()
    records.close()
    print("processed by (worker, token): " + ", ".join(f"{w} under {t}: {n}" for w, t, n in r["by"]))
    print(
        f"records processed: {r['processed']} of {args.records}; left failed: {r['left']}; "
        f"stale writes rejected: {len(fleet.stale)}; duplicates: {r['duplicates']}"
    )
    ok = r["duplicates"] == 0 and r["left"] == 0 and len({t for _, t, _ in r["by"]}) >= 2
    print("OK" if ok else "FAILED: every record must be processed exactly once, by at least two leaders")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
