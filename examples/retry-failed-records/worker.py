"""One instance of the service: every few seconds, if it leads, it retries the failed records.

    python worker.py --election file:///tmp/elect --db /tmp/records.sqlite --id w1

Every instance runs this loop; only the leader retries. Each retry is written through the SQL
guard with the term's fencing token, so an instance that was paused while leading, and resumes
after a successor took over, has its write rejected instead of delivering a record twice.
Prints one line per event: ``leading <token>``, ``processed <record> <token>``,
``stale <record> <token> <highest>``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any, NoReturn

import elect
from elect import fencing
from records import Records


def say(*words: object) -> None:
    print(*words, flush=True)


def retry_batch(election: elect.Election, records: Records, me: str, work: float, fence: bool) -> None:
    """Retries the failed records while this instance leads, under this term's token."""
    token = election.fencing_token
    if token is None:
        return
    for record in records.failed():
        if election.fencing_token != token:
            return  # the term ended (the deadline passed): stop its work
        say("working", record)
        time.sleep(work)  # stands for the call that processes the record (a payment, an email)
        try:
            if fence:
                records.retry(record, me, token)
            else:
                records.retry_unfenced(record, me, token)
        except fencing.StaleTokenError as e:
            say("stale", record, token, e.highest)
            return
        say("processed", record, token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--election", required=True, help="store URI, e.g. file:///tmp/elect")
    parser.add_argument("--name", default="retry-failed-records", help="election name")
    parser.add_argument("--db", required=True, help="SQLite file or postgresql:// URI of the records")
    parser.add_argument("--id", required=True, help="this instance's id")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between retry runs")
    parser.add_argument("--work", type=float, default=0.1, help="seconds one record takes")
    parser.add_argument("--ttl", type=float, default=2.0, help="lease seconds")
    parser.add_argument("--no-fence", action="store_true", help="write without the SQL guard (to see duplicates)")
    args = parser.parse_args()

    def stop(*_: Any) -> NoReturn:
        sys.exit(0)  # unwinds the with-block: the election resigns and closes

    signal.signal(signal.SIGTERM, stop)
    records = Records(args.db)
    try:
        with elect.Election(
            args.election,
            args.name,
            id=args.id,
            ttl=args.ttl,
            renew=args.ttl / 4,
            on_elected=lambda token: say("leading", token),
        ) as election:
            election.start()
            while True:
                retry_batch(election, records, args.id, args.work, not args.no_fence)
                time.sleep(args.every)
    finally:
        records.close()


if __name__ == "__main__":
    main()
