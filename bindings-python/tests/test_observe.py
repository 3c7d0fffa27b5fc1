"""Observability in Python: core's records in ``logging`` (a Redis server killed under a leader
arrives as WARNING records with election and term), ``Election.stats()`` and the healthz
helper, against real stores."""

from __future__ import annotations

import logging
import os
import queue
import shlex
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest

import elect

from conftest import ROOT, WAIT

REDIS = ROOT / "scripts" / "servers" / "redis"


class Collect(logging.Handler):
    """Every record of the ``elect`` loggers about one election, on a queue."""

    def __init__(self, election: str) -> None:
        super().__init__(level=logging.DEBUG)
        self.election = election
        self.records: "queue.Queue[logging.LogRecord]" = queue.Queue()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "election", None) == self.election:
            self.records.put(record)

    def expect(self, level: int, prefix: str) -> logging.LogRecord:
        while True:
            r = self.records.get(timeout=WAIT)
            if r.levelno == level and r.getMessage().startswith(prefix):
                return r


@pytest.fixture
def collect(name: str) -> Iterator[Collect]:
    handler = Collect(name)
    logger = logging.getLogger("elect")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


@pytest.fixture
def redis() -> Iterator[Dict[str, str]]:
    """A Redis server of this test alone (it gets killed)."""
    if not REDIS.exists():
        pytest.skip("no scripts/servers/redis")
    instance = f"pyobs{os.getpid()}-{uuid.uuid4().hex[:6]}"
    out = subprocess.run([str(REDIS), "start", instance], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    exports = {}
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        exports[key] = shlex.split(value)[0] if value else ""
    exports["instance"] = instance
    try:
        yield exports
    finally:
        subprocess.run([str(REDIS), "stop", instance], capture_output=True, timeout=60)


def test_leadership_changes_reach_logging_with_election_id_and_term(
    tmp_path: Path, name: str, collect: Collect
) -> None:
    with elect.Election(f"file://{tmp_path}", name, id="p1", ttl=2.0) as e:
        e.start()
        assert e.wait_leader(timeout=WAIT)
        term = e.fencing_token
        r = collect.expect(logging.INFO, "elected")
        assert r.name == "elect.core.event_log"
        assert (r.id, r.term) == ("p1", term)  # type: ignore[attr-defined]
        assert f"election={name}" in r.getMessage() and f"term={term}" in r.getMessage()
        s = e.stats()
        assert s.terms_won == 1 and s.store_connected and s.failovers == 0
        assert s.lease_remaining is not None and 0 < s.lease_remaining <= 2.0
        assert set(s.revocations) == {"resigned", "lease_expired", "session_lost",
                                      "store_unreachable", "closed", "preempted"}
        e.resign()
        r = collect.expect(logging.INFO, "revoked")
        assert r.fields["reason"] == "resigned"  # type: ignore[attr-defined]
        assert e.stats().revocations["resigned"] == 1
        status, body = elect.healthz([e])
        entry = body[name]
        assert status == 200 and isinstance(entry, dict) and entry["ok"] is True
    assert e.health().ok is False
    assert elect.healthz([e])[0] == 503


def test_a_killed_redis_server_arrives_as_warnings(
    redis: Dict[str, str], name: str, collect: Collect
) -> None:
    uri = f"{redis['ELECT_REDIS_URI']}?renew=300ms&retry=200ms&connect_timeout=1s"
    with elect.Election(uri, name, id="p2", ttl=2.0) as e:
        e.start()
        assert e.wait_leader(timeout=WAIT)
        term = e.fencing_token
        os.kill(int(redis["ELECT_REDIS_PID"]), signal.SIGKILL)
        r = collect.expect(logging.WARNING, "revoked")
        assert (r.election, r.id, r.term) == (name, "p2", term)  # type: ignore[attr-defined]
        collect.expect(logging.WARNING, "")  # the store error itself
        s = e.stats()
        assert s.store_errors >= 1 and not s.store_connected
        lost = sum(s.revocations[k] for k in ("store_unreachable", "session_lost", "lease_expired"))
        assert lost == 1, s
        h = e.health()
        assert h.ok and not h.leading and not h.store_connected, h


def test_nothing_below_the_chosen_level_is_delivered(
    tmp_path: Path, name: str, collect: Collect
) -> None:
    elect.set_log_level(None)
    try:
        with elect.Election(f"file://{tmp_path}", name, id="p3", ttl=2.0) as e:
            e.start()
            assert e.wait_leader(timeout=WAIT)
        with pytest.raises(queue.Empty):
            collect.records.get(timeout=0.5)
    finally:
        elect.set_log_level(logging.INFO)
