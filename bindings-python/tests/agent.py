#!/usr/bin/env python3
"""The Python scenario agent: drives one elect.Election over the shared line protocol.

``python3 tests/scenarios/run.py --agent "python3 bindings-python/tests/agent.py" --uri URI``
starts several of these. One request per stdin line, one reply per request on stdout; events
are written from the election's callback thread whenever they happen. Writes are serialized
and flushed per line. End of stdin is ``quit``.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Callable, Dict, List, Optional

import elect

_out = threading.Lock()


def emit(line: str) -> None:
    with _out:
        sys.stdout.write(line.replace("\r", " ").replace("\n", " ") + "\n")
        sys.stdout.flush()


def on_leader_changed(leader: Optional[elect.LeaderInfo]) -> None:
    if leader is None:
        emit("event leader -")
    else:
        value = f" {leader.value}" if leader.value else ""
        emit(f"event leader {leader.id} {leader.term}{value}")


def member_line(kind: str, member: elect.Member) -> str:
    return f"event {kind} {member.id}" + (f" {member.value}" if member.value else "")


def ok(action: Callable[[], None]) -> str:
    action()
    return "ok"


class Agent:
    def __init__(self) -> None:
        self.election: Optional[elect.Election] = None
        self.commands: Dict[str, Callable[[List[str]], str]] = {
            "open": self.open,
            "start": lambda _: ok(self.need().start),
            "observe": lambda _: ok(self.need().observe),
            "is_leader": lambda _: f"ok {str(self.need().is_leader).lower()}",
            "token": lambda _: f"ok {self.need().fencing_token or 0}",
            "wait_leader": self.wait_leader,
            "resign": lambda _: ok(self.need().resign),
            "proclaim": self.proclaim,
            "hand_over": self.hand_over,
            "leader": self.leader,
            "members": lambda _: "ok " + ",".join(m.id for m in self.need().members()),
            "work": self.work,
            "close": self.close,
            "quit": self.close,
        }

    def need(self) -> elect.Election:
        if self.election is None:
            raise elect.WrongStateError("no election is open: send `open <uri> <name>` first")
        return self.election

    def open(self, args: List[str]) -> str:
        if len(args) != 2:
            raise elect.InvalidArgumentError("usage: open <uri> <name>")
        self.close([])
        self.election = elect.Election(
            args[0],
            args[1],
            on_elected=lambda term: emit(f"event elected {term}"),
            on_revoked=lambda term, reason: emit(f"event revoked {term} {reason}"),
            on_leader_changed=on_leader_changed,
            on_error=lambda message: emit(f"event error {message}"),
            on_member_joined=lambda m: emit(member_line("member_joined", m)),
            on_member_left=lambda m: emit(member_line("member_left", m)),
        )
        return "ok"

    def wait_leader(self, args: List[str]) -> str:
        if len(args) != 1 or not args[0].lstrip("-").isdigit():
            raise elect.InvalidArgumentError("usage: wait_leader <timeout_ms>")
        ms = int(args[0])
        led = self.need().wait_leader(None if ms < 0 else ms / 1000)
        return f"ok {str(led).lower()}"

    def proclaim(self, args: List[str]) -> str:
        if len(args) != 1:
            raise elect.InvalidArgumentError("usage: proclaim <value>")
        self.need().proclaim(args[0])
        return "ok"

    def hand_over(self, args: List[str]) -> str:
        if len(args) != 1:
            raise elect.InvalidArgumentError("usage: hand_over <id>")
        self.need().hand_over_to(args[0])
        return "ok"

    def leader(self, _: List[str]) -> str:
        info = self.need().leader
        return "ok -" if info is None else f"ok {info.id} {info.term}"

    def work(self, args: List[str]) -> str:
        """Starts the fenced-write loop of tests/chaos (tests/scenarios/README.md, `work`)."""
        if len(args) != 3 or not args[1].isdigit():
            raise elect.InvalidArgumentError("usage: work <host:port> <interval_ms> <label>")
        host, _, port = args[0].rpartition(":")
        election = self.need()
        threading.Thread(
            target=work_loop, args=(election, (host, int(port)), int(args[1]) / 1000, args[2]), daemon=True
        ).start()
        return "ok"

    def close(self, _: List[str]) -> str:
        if self.election is not None:
            self.election.close()
        return "ok"

    def handle(self, line: str) -> str:
        words = line.split(" ")
        command = self.commands.get(words[0])
        if command is None:
            return f"err invalid_argument unknown request `{words[0]}`"
        try:
            return command(words[1:])
        except elect.ElectError as e:
            return f"err {e.code_name} {e.message}"
        except Exception as e:  # an agent bug must not kill the scenario silently
            return f"err internal {type(e).__name__}: {e}"


def work_loop(election: elect.Election, resource: "tuple[str, int]", every: float, label: str) -> None:
    """Samples is_leader() every `every` seconds and, while leading, writes to the resource."""
    conn: Optional[socket.socket] = None
    previous: Optional[bool] = None
    while election.state != "closed":
        t0 = time.monotonic_ns()
        leading = election.is_leader
        t1 = time.monotonic_ns()
        token = election.fencing_token or 0
        if leading or leading != previous:
            emit(f"event sample {str(leading).lower()} {token} {t0} {t1}")
        previous = leading
        if leading and token > 0:
            t0 = time.monotonic_ns()
            try:
                if conn is None:
                    conn = socket.create_connection(resource, timeout=0.25)
                conn.sendall(f"write {label} {token}\n".encode())
                result = conn.makefile().readline().strip()
            except OSError:
                result = ""
            if result not in ("ok", "stale"):
                result, conn = "error", None
            emit(f"event write {token} {result} {t0} {time.monotonic_ns()}")
        time.sleep(every)


def main() -> int:
    agent = Agent()
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        if not line:
            continue
        emit(agent.handle(line))
        if line == "quit":
            return 0
    agent.close([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
