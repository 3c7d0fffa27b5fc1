"""Agent processes and small helpers shared by the scenario runner (run.py) and the chaos
suite (tests/chaos). Standard library only."""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time


class Agent:
    """One agent process: requests go to stdin; a reader thread sorts replies from events."""

    def __init__(self, index, command):
        self.index = index
        self.proc = subprocess.Popen(
            command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1, start_new_session=True)
        self.replies = queue.Queue()
        self.events = []  # (CLOCK_MONOTONIC ns at arrival, words)
        self.event_cond = threading.Condition()
        self.transcript = []  # every stdout line
        self.stderr_lines = []
        self.stderr_done = threading.Event()
        self.stdout_done = threading.Event()
        # CLOCK_MONOTONIC ns just before a SIGKILL: the process believed nothing after it (its
        # death comes later, but a successor may begin right at the death, before the wait for
        # it returns).
        self.dead_at = None
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stderr(self):
        """Keeps the agent's log lines (for the secrets check) and passes them on."""
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            sys.stderr.write(line)
        self.stderr_done.set()

    def _read(self):
        for line in self.proc.stdout:
            self.transcript.append(line)
            words = line.rstrip("\n").split(" ")
            if words[0] == "event":
                with self.event_cond:
                    self.events.append((time.monotonic_ns(), words[1:]))
                    self.event_cond.notify_all()
            else:
                self.replies.put(line.rstrip("\n"))
        self.replies.put(None)
        self.stdout_done.set()

    def request(self, line, timeout=30.0):
        self.send(line)
        return self.reply(line, timeout)

    def send(self, line):
        """Writes a request without waiting for its reply (see `reply`)."""
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise Failure(f"agent {self.index}: exited before `{line}`")

    def reply(self, line, timeout=30.0):
        """The reply to the request `line` sent last."""
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise Failure(f"agent {self.index}: no reply to `{line}` within {timeout}s")
        if reply is None:
            raise Failure(f"agent {self.index}: exited while answering `{line}`")
        return reply

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        os.killpg(self.proc.pid, sig)

    def stop(self):
        if self.alive():
            try:
                self.signal(signal.SIGCONT)
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except Exception:
                pass
        if self.alive():
            self.dead_at = time.monotonic_ns()
            self.signal(signal.SIGKILL)
            self.proc.wait()
        self.stdout_done.wait(timeout=10)


class Failure(Exception):
    pass


def parse_ms(s):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m)", s)
    if not m:
        raise ValueError(f"bad duration {s}")
    return int(float(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000}[m.group(2)])


def redact(uri):
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", uri)
