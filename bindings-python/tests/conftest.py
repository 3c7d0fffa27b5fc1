"""Fixtures: one store URI per backend, fresh election names, and scenario agents in processes.

The file backend always runs. A server backend runs when ``ELECT_<STORE>_URI`` is set, or
when ``scripts/servers/<store>`` exists, in which case the session starts its own server on a
random loopback port and stops it at the end (also on failure). Otherwise it is skipped.
"""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import elect

ROOT = Path(__file__).resolve().parents[2]
AGENT = Path(__file__).with_name("agent.py")
STORES = {"etcd": "ETCD", "zk": "ZK", "redis": "REDIS", "postgres": "POSTGRES", "mysql": "MYSQL"}
SERVER_STORES = list(STORES)
#: How long any awaited event may take; generous for a loaded 2-core machine.
WAIT = 15.0

#: The type of the ``open_election`` fixture: ``make(id, **Election keywords)``.
OpenElection = Callable[..., elect.Election]


class Servers:
    """Server stores started by this session, stopped at its end."""

    def __init__(self) -> None:
        self.started: List[List[str]] = []
        self.instance = f"py{os.getpid()}"

    def uri(self, store: str) -> Optional[str]:
        var = f"ELECT_{STORES[store]}_URI"
        if os.environ.get(var):
            return os.environ[var]
        script = ROOT / "scripts" / "servers" / store
        if not script.exists():
            return None
        out = subprocess.run([str(script), "start", self.instance], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            pytest.fail(f"{script} start failed: {out.stderr}")
        self.started.append([str(script), "stop", self.instance])
        exports: Dict[str, str] = {}
        for line in out.stdout.splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                exports[key] = shlex.split(value)[0] if value else ""
        os.environ.update(exports)  # agents and later tests see the same server
        return exports.get(var)

    def stop_all(self) -> None:
        run_dir = Path(os.environ.get("ELECT_RUN_DIR", "/tmp/elect-run"))
        for script, _, instance in reversed(self.started):
            subprocess.run([script, "stop", instance], capture_output=True, timeout=60)
            shutil.rmtree(run_dir / f"{Path(script).name}-{instance}", ignore_errors=True)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    s = Servers()
    try:
        yield s
    finally:
        s.stop_all()


_server_uris: Dict[str, Optional[str]] = {}


@pytest.fixture(params=["file"] + SERVER_STORES)
def store_uri(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> str:
    """A URI of one store; elections in one test share it, tests never share a name."""
    store = request.param
    if store == "file":
        return f"file://{tmp_path}/elect"
    return server_uri(servers, store)


def server_uri(servers: Servers, store: str) -> str:
    """The URI of a server store, started once per session; skips the test when there is none."""
    if store not in _server_uris:
        _server_uris[store] = servers.uri(store)
    uri = _server_uris[store]
    if uri is None:
        pytest.skip(f"{store}: neither ELECT_{STORES[store]}_URI nor scripts/servers/{store}")
    return uri


@pytest.fixture
def name() -> str:
    return f"py-{uuid.uuid4().hex[:12]}"


def with_params(uri: str, **params: str) -> str:
    """``uri`` with more query parameters."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


class AgentProcess:
    """One ``agent.py`` in its own process: requests and replies, events kept apart."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(AGENT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.replies: "queue.Queue[str]" = queue.Queue()
        self.events: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            (self.events if line.startswith("event ") else self.replies).put(line)

    def ask(self, request: str, timeout: float = WAIT) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        return self.replies.get(timeout=timeout)

    def ok(self, request: str, timeout: float = WAIT) -> str:
        reply = self.ask(request, timeout)
        assert reply == "ok" or reply.startswith("ok "), f"{request!r} -> {reply!r}"
        return reply[3:]

    def expect_event(self, prefix: str, timeout: float = WAIT) -> str:
        """The next event starting with ``prefix``, skipping others."""
        end = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.0, end - time.monotonic()))
            if event.startswith(prefix):
                return event

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.ask("quit", timeout=10)
                self.proc.wait(timeout=10)
            except Exception:
                self.kill()


@pytest.fixture
def agents() -> Iterator[List[AgentProcess]]:
    """Three agent processes, stopped (or killed) at the end of the test."""
    procs = [AgentProcess() for _ in range(3)]
    try:
        yield procs
    finally:
        for p in procs:
            p.stop()


@pytest.fixture
def open_election(store_uri: str, name: str) -> Iterator[OpenElection]:
    """Opens in-process elections on this test's store and name; closes them all at the end."""
    opened: List[elect.Election] = []

    def make(id: str, **kwargs: object) -> elect.Election:
        kwargs.setdefault("ttl", 2.0)
        kwargs.setdefault("renew", 0.5)
        kwargs.setdefault("retry", 0.2)
        e = elect.Election(store_uri, name, id=id, **kwargs)  # type: ignore[arg-type]
        opened.append(e)
        return e

    try:
        yield make
    finally:
        for e in opened:
            e.close()



#: The ``held`` fixture: a leading ``holder`` and a campaigning ``waiter`` behind it.
Held = Tuple[elect.Election, elect.Election]


@pytest.fixture
def held(open_election: OpenElection) -> Held:
    holder = open_election("holder")
    holder.start()
    assert holder.wait_leader(WAIT)
    waiter = open_election("waiter")
    waiter.start()
    return holder, waiter


@pytest.fixture
def terms(tmp_path: Path, name: str) -> Tuple[int, int]:
    """The fencing tokens of two successive terms of one election: (older, newer)."""
    uri = f"file://{tmp_path}/terms"
    with elect.Election(uri, name, id="first", ttl=2.0, renew=0.5) as first:
        first.start()
        assert first.wait_leader(WAIT)
        older = first.fencing_token
        first.resign()
    with elect.Election(uri, name, id="second", ttl=2.0, renew=0.5) as second:
        second.start()
        assert second.wait_leader(WAIT)
        newer = second.fencing_token
    assert older is not None and newer is not None and older < newer
    return older, newer


def wait_until(done: Callable[[], bool], what: str) -> None:
    """Polls ``done`` (state another thread or a server makes true, with no event to await)."""
    for _ in range(int(WAIT / 0.01)):
        if done():
            return
        time.sleep(0.01)
    pytest.fail(f"never happened: {what}")
