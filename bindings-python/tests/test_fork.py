"""fork() on every store, as prefork servers do (gunicorn ``--preload``, uWSGI, Celery prefork):
a process with an election forks, and the child opens an election of its own on the same store
and leads it."""

from __future__ import annotations

import os
import uuid

import pytest

import elect
from conftest import WAIT, OpenElection


def child_leads(store_uri: str) -> str:
    """Forks a child that opens its own election on ``store_uri`` and must lead it. Returns the
    child's verdict: ``"leading"``, or what went wrong."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        try:
            with elect.Election(store_uri, f"py-fork-child-{uuid.uuid4().hex[:8]}", ttl=3.0) as own:
                own.start()
                verdict = "leading" if own.wait_leader(WAIT) and own.is_leader else "not leading"
        except BaseException as exc:  # noqa: BLE001 - anything is the failure we report
            verdict = f"{type(exc).__name__}: {exc}"
        os.write(write, verdict.encode())
        os._exit(0 if verdict == "leading" else 1)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        verdict = f.read()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, verdict
    return verdict


# Forking a multi-threaded process is the very situation under test (Python 3.12+ warns).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("parent_closes", [False, True], ids=["parent_leading", "parent_closed"])
def test_a_child_leads_its_own_election(
    store_uri: str, open_election: OpenElection, parent_closes: bool
) -> None:
    """Whether the parent still leads or has closed its election, the child leads its own
    (and a parent that still leads keeps leading)."""
    parent = open_election("parent")
    parent.start()
    assert parent.wait_leader(WAIT)
    if parent_closes:
        parent.close()
    assert child_leads(store_uri) == "leading"
    if not parent_closes:
        assert parent.is_leader, "the parent keeps leading"
