"""The Python agent's group mode (tests/scenarios/README.md, "Groups"): `group <uri> <name>
<shards> <cap|->` joins a group of elections and campaigns, `leading` answers `ok <shard>,...`.

Each event of the group is written as `event shard <i> <event>`. A sampler thread reads
`is_leader(shard)` and the token of every shard every millisecond and reports each term this
process believed in: `event shard <i> began <token> <t1_ns>` (the end of the first true sample)
and `event shard <i> ended <token> <t0_ns>` (the start of the last one), on CLOCK_MONOTONIC
(`time.monotonic_ns`), as the Rust agent's cli/src/agent/group.rs does.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, List, Optional, Tuple

import elect

SAMPLE_EVERY = 0.001


class GroupAgent:
    """One open group and its sampler."""

    def __init__(
        self,
        args: List[str],
        emit: Callable[[str], None],
        leader_line: Callable[[Optional[elect.LeaderInfo]], str],
    ) -> None:
        if len(args) != 4 or not args[2].isdigit() or not (args[3] == "-" or args[3].isdigit()):
            raise elect.InvalidArgumentError("usage: group <uri> <name> <shards> <cap|->")
        self.emit = emit
        shards = int(args[2])

        def on(shard: int, body: str) -> None:
            emit(f"event shard {shard} {body}")

        self.group = elect.Group(
            args[0],
            args[1],
            shards,
            cap=None if args[3] == "-" else int(args[3]),
            on_elected=lambda s, term: on(s, f"elected {term}"),
            on_revoked=lambda s, term, reason: on(s, f"revoked {term} {reason}"),
            on_leader_changed=lambda s, leader: on(s, leader_line(leader)),
            on_error=lambda s, message: on(s, f"error {message}"),
        )
        self.closed = threading.Event()
        self.sampler = threading.Thread(target=self.sample, args=(shards,), daemon=True)
        self.sampler.start()

    def leading(self) -> str:
        return "ok " + ",".join(str(s) for s in self.group.leading)

    def sample(self, shards: int) -> None:
        held: List[Optional[Tuple[int, int]]] = [None] * shards  # (token, t0 of last true sample)
        while True:
            stopping = self.closed.is_set()  # one more round after close: every shard false
            for shard in range(shards):
                t0 = time.monotonic_ns()
                leading = self.group.is_leader(shard)
                token = self.group.fencing_token(shard) or 0
                t1 = time.monotonic_ns()
                slot = held[shard]
                if slot is not None and leading and slot[0] == token:
                    held[shard] = (token, t0)
                    continue
                if slot is not None:
                    self.emit(f"event shard {shard} ended {slot[0]} {slot[1]}")
                    held[shard] = None
                if leading and token > 0:
                    self.emit(f"event shard {shard} began {token} {t1}")
                    held[shard] = (token, t0)
            if stopping:
                return
            time.sleep(SAMPLE_EVERY)

    def close(self) -> None:
        """Closes the group and waits for the sampler's last `ended` lines."""
        self.group.close()
        self.closed.set()
        self.sampler.join()
