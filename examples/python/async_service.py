"""An asyncio service whose background job runs only while this instance leads.

    python async_service.py file:///tmp/elect --every 1

Start it several times: the leader prints its job's ticks, the others wait. The job starts on
Elected and is cancelled on Revoked: a resign (`kill -USR1 <pid>` hands the leadership over,
e.g. before a deploy), a lease that expired while the process was frozen, a store unreachable
for longer than the ttl. With a server store, freeze the leader (`kill -STOP`) for longer than
the ttl: another instance takes over, and on `kill -CONT` the old one sees Revoked and stops its
job. SIGTERM or Ctrl-C stops the job first, then leaves the election, so the next leader is
elected at once.

Each tick carries the term's fencing token: the resource the job writes rejects a token older
than the newest it has seen, which covers the moment between a lost lease and its Revoked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Optional

import elect


async def job(election: elect.Election, term: int, every: float) -> None:
    """Stands for the leader's work; runs until cancelled."""
    tick = 0
    while election.fencing_token == term:  # a read of the lease deadline, no I/O
        tick += 1
        print(f"job: term {term} tick {tick}", flush=True)
        await asyncio.sleep(every)


async def stop_job(task: Optional["asyncio.Task[None]"]) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def follow(election: elect.Election, events: elect.EventStream, every: float) -> None:
    """Starts the job on Elected and stops it on Revoked, for as long as the election runs."""
    running: Optional["asyncio.Task[None]"] = None
    try:
        async for event in events:
            if isinstance(event, elect.Elected):
                running = asyncio.create_task(job(election, event.term, every))
                print(f"elected: term {event.term}, job started", flush=True)
            elif isinstance(event, elect.Revoked):
                await stop_job(running)
                running = None
                print(f"revoked: term {event.term} ({event.reason}), job stopped", flush=True)
    finally:
        await stop_job(running)


async def serve(uri: str, name: str, ttl: float, every: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with elect.Election(uri, name, ttl=ttl) as election:
        events = election.events()  # subscribed before the campaign starts: no event is missed
        handovers: "set[asyncio.Task[None]]" = set()

        def hand_over() -> None:
            task = asyncio.create_task(election.resign_async())  # campaigns again after `silence`
            handovers.add(task)
            task.add_done_callback(handovers.discard)

        loop.add_signal_handler(signal.SIGUSR1, hand_over)
        election.start()
        print(f"{election.id}: campaigning for {name}", flush=True)
        follower = asyncio.create_task(follow(election, events, every))
        await stop.wait()
        # The job stops before the election is left, so it never overlaps the next leader's.
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        events.close()
    print("stopped", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("uri", help="connection string, e.g. file:///tmp/elect or redis://127.0.0.1:6379")
    parser.add_argument("--name", default="async-worker")
    parser.add_argument("--ttl", type=float, default=10.0, help="seconds a frozen leader keeps the lease")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between the job's ticks")
    args = parser.parse_args()
    asyncio.run(serve(args.uri, args.name, args.ttl, args.every))


if __name__ == "__main__":
    main()
