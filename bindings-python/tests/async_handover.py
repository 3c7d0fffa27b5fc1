"""Hands the job of examples/python/async_service.py over between two processes.

    python async_handover.py <python that has elect installed> <uri> [resign|freeze]

A leads and runs the job; B waits. Then A loses the leadership, by the example's own handover
(SIGUSR1: it resigns) or, with ``freeze``, by being frozen (SIGSTOP) past its ttl and thawed
once B leads (a server store only: on the file store a frozen leader keeps its lock). Either
way B is elected with a larger term and runs the job, and A must see Revoked, stop its job and
never tick again. Both stop on SIGTERM, cleanly. Every step waits for the line it expects (no sleeps);
plain Python, so that it runs in the bare virtualenv of tests/run.d/07-dist-python as well as
from pytest (test_async_example.py).
"""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import List, Optional

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "async_service.py"
TTL = 2.0
WAIT = 60.0  # generous: a loaded 2-core CI machine


class Service:
    """One process of the example, with its output lines read as they come."""

    def __init__(self, python: str, uri: str, name: str, label: str):
        self.label = label
        self.lines: List[str] = []
        self._new: "queue.Queue[Optional[str]]" = queue.Queue()
        self.proc = subprocess.Popen(
            [python, str(EXAMPLE), uri, "--name", name, "--ttl", str(TTL), "--every", "0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def expect(self, pattern: str) -> "re.Match[str]":
        """Waits for the next line matching ``pattern``; fails on exit or after WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.label}: no line matching {pattern!r} in {WAIT}s:\n{self.output()}")
            if line is None:
                raise AssertionError(f"{self.label} ended before {pattern!r}:\n{self.output()}")
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
        code = self.proc.wait(timeout=WAIT)
        while (line := self._new.get(timeout=WAIT)) is not None:
            self.lines.append(line)
        return code

    def output(self) -> str:
        return "\n".join(f"  {self.label}| {line}" for line in self.lines)


def handover(python: str, uri: str, how: str = "resign") -> str:
    name = f"handover-{uuid.uuid4().hex[:8]}"  # a shared server keeps other runs' elections
    a = Service(python, uri, name, "A")
    b: Optional[Service] = None
    try:
        term_a = int(a.expect(r"^elected: term (\d+), job started$")[1])
        a.expect(rf"^job: term {term_a} tick 2$")
        b = Service(python, uri, name, "B")
        b.expect(rf": campaigning for {name}$")

        a.proc.send_signal(signal.SIGSTOP if how == "freeze" else signal.SIGUSR1)
        term_b = int(b.expect(r"^elected: term (\d+), job started$")[1])
        assert term_b > term_a, (term_a, term_b)
        b.expect(rf"^job: term {term_b} tick 1$")

        if how == "freeze":
            a.proc.send_signal(signal.SIGCONT)
        reason = a.expect(rf"^revoked: term {term_a} \((\w+)\), job stopped$")[1]
        b.expect(rf"^job: term {term_b} tick 3$")  # A has had B's ticks' time to misbehave
        codes = (a.stop(), b.stop())
        assert codes == (0, 0), f"exit codes {codes}:\n{a.output()}\n{b.output()}"
        stopped = a.lines.index(f"revoked: term {term_a} ({reason}), job stopped")
        late = [line for line in a.lines[stopped:] if line.startswith("job: ")]
        assert not late, f"A's job ran after its Revoked:\n{a.output()}"
        assert all(not line.startswith(f"job: term {term_a} ") for line in b.lines), b.output()
        assert b.lines[-1] == "stopped" and a.lines[-1] == "stopped", f"{a.output()}\n{b.output()}"
        return f"{how}: handover from term {term_a} to {term_b}; A stopped its job on Revoked ({reason})"
    finally:
        for service in (a, b):
            if service is not None and service.proc.poll() is None:
                service.proc.kill()


if __name__ == "__main__":
    print(handover(*sys.argv[1:4]))
