"""A job scheduled on every instance of a service, run by exactly one of them: the leader.

    python scheduled_job.py file:///tmp/elect --every 5

Start it several times: one instance runs the job, the others skip it; kill the one that runs
it and another takes over within the ttl. The fencing token goes to the resource the job
writes, so a leader that lost its lease while paused cannot overwrite a newer one's work.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Optional

import elect


def write_report(path: Optional[str], line: str, fencing_token: int) -> None:
    """Stands for the resource the job writes; a real one rejects tokens older than its last."""
    if path:
        with open(path, "a") as f:
            f.write(f"{fencing_token} {line}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("uri", help="connection string, e.g. file:///tmp/elect or etcd://127.0.0.1:2379")
    parser.add_argument("--name", default="nightly-report")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between runs")
    parser.add_argument("--runs", type=int, default=0, help="stop after this many ticks (0: never)")
    parser.add_argument("--out", help="file the job appends to")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    with elect.Election(args.uri, args.name, ttl=10.0) as election:

        @elect.leader_only(election)
        def report(tick: int, *, fencing_token: int = 0) -> str:
            line = f"report #{tick} by {election.id}"
            write_report(args.out, line, fencing_token)
            return line

        election.start()
        election.wait_leader(timeout=args.every)  # the first tick need not miss a free election
        tick = 0
        while args.runs == 0 or tick < args.runs:
            tick += 1
            done = report(tick)
            print(done if done is not None else f"tick {tick}: not the leader, skipped", flush=True)
            time.sleep(args.every)


if __name__ == "__main__":
    main()
