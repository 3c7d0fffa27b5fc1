"""Errors: one exception class per core code, clear messages for bad input, ClosedError after
close(), and a clear error in a forked child."""

from __future__ import annotations

import datetime
import os
import queue
from typing import Any, Callable, Dict

import pytest

import elect
from elect import _errors, _native
from conftest import WAIT, OpenElection


def test_every_core_code_has_its_class() -> None:
    for code, code_name in _native.error_codes():
        if code == 0:
            continue
        cls = _errors.CODES[code]
        exc = _errors.from_code(code, code_name, "m")
        assert type(exc) is cls and exc.code == code and exc.code_name == code_name
        assert isinstance(exc, elect.ElectError)
    assert set(_errors.CODES) == {c for c, _ in _native.error_codes()} - {0}
    assert issubclass(elect.UnreachableError, elect.ConnectionError)
    assert issubclass(elect.ConnectionError, ConnectionError)
    assert issubclass(elect.TimeoutError, TimeoutError)
    assert issubclass(elect.InvalidArgumentError, ValueError)


@pytest.mark.parametrize(
    "uri, name, kwargs, part",
    [
        ("nosuch://x", "job", {}, "scheme `nosuch`"),
        ("file:///tmp/x?bogus=1", "job", {}, "option `bogus`"),
        ("file:///tmp/x?ttl=ten", "job", {}, "ttl"),
        ("file:///tmp/x", "", {}, "name"),
        ("file:///tmp/x", "job", {"ttl": 1.0, "renew": 2.0}, "renew"),
        ("file:///tmp/x", "job", {"ttl": -1.0}, "ttl"),
        ("file:///tmp/x", "job", {"ttl": float("nan")}, "ttl"),
        ("file:///tmp/x", "job", {"id": ""}, "id"),
        ("file:///tmp/x", "job", {"options": {"nosuch": "1"}}, "option `nosuch`"),
    ],
)
def test_bad_input_names_the_bad_part(uri: str, name: str, kwargs: Dict[str, Any], part: str) -> None:
    with pytest.raises(elect.InvalidArgumentError) as info:
        elect.Election(uri, name, **kwargs)
    assert part in str(info.value)
    assert info.value.code_name == "invalid_argument"


@pytest.mark.parametrize(
    "args, kwargs, part",
    [
        ((42, "job"), {}, "uri"),
        (("file:///tmp/x", None), {}, "name"),
        (("file:///tmp/x", "job"), {"renew": "1s"}, "renew"),
        (("file:///tmp/x", "job"), {"id": 7}, "id"),
        (("file:///tmp/x", "job"), {"options": {"tls_ca": 1}}, "tls_ca"),
    ],
)
def test_wrong_types_raise_type_error(args: Any, kwargs: Dict[str, Any], part: str) -> None:
    with pytest.raises(TypeError, match=part):
        elect.Election(*args, **kwargs)


def test_timedelta_durations(tmp_path: Any) -> None:
    with elect.Election(f"file://{tmp_path}", "job", ttl=datetime.timedelta(seconds=3), renew=0.25) as e:
        e.start()
        assert e.wait_leader(WAIT)


def test_passwords_never_appear_in_errors() -> None:
    with pytest.raises(elect.ElectError) as info:
        elect.Election("redis://user:hunter2@127.0.0.1:1/0?nosuch=1", "job")
    assert "hunter2" not in str(info.value)


def test_bad_timeout_and_wrong_state(open_election: OpenElection) -> None:
    e = open_election("a")
    with pytest.raises(elect.WrongStateError, match="start"):
        e.wait_leader(0.1)
    e.start()
    with pytest.raises(elect.WrongStateError):
        e.observe()
    with pytest.raises(elect.InvalidArgumentError, match="timeout"):
        e.wait_leader(-1.0)


CALLS: Dict[str, Callable[[elect.Election], object]] = {
    "start": lambda e: e.start(),
    "observe": lambda e: e.observe(),
    "wait_leader": lambda e: e.wait_leader(0.1),
    "resign": lambda e: e.resign(),
    "leader": lambda e: e.leader,
    "members": lambda e: e.members(),
}


def test_use_after_close_raises_closed(open_election: OpenElection) -> None:
    e = open_election("a")
    e.start()
    assert e.wait_leader(WAIT)
    e.close()
    e.close()  # idempotent
    for what, call in CALLS.items():
        with pytest.raises(elect.ClosedError):
            call(e)
            pytest.fail(what)
    assert e.is_leader is False and e.fencing_token is None and e.state == "closed"


def test_close_inside_a_callback_does_not_deadlock(open_election: OpenElection) -> None:
    box: Dict[str, elect.Election] = {}
    revoked: "queue.Queue[str]" = queue.Queue()
    e = open_election("a", on_elected=lambda term: box["e"].close(), on_revoked=lambda t, r: revoked.put(r))
    box["e"] = e
    e.start()
    # The queued Revoked is delivered after the closing callback returns.
    assert revoked.get(timeout=WAIT) == "closed"
    with pytest.raises(elect.ClosedError):
        e.wait_leader(WAIT)


# Forking a multi-threaded process is the very situation under test (Python 3.12+ warns).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_gets_a_clear_error_and_can_open_its_own(open_election: OpenElection) -> None:
    e = open_election("a")
    e.start()
    assert e.wait_leader(WAIT)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        verdict = "no error"
        try:
            leading = e.is_leader
            e.resign()
        except elect.ClosedError as exc:
            verdict = f"closed leading={leading} {exc}"
        try:  # core starts a fresh runtime in the child: its own election works
            with elect.Election(f"file:///tmp/elect-fork-{os.getpid()}", "other") as own:
                own.start()
                verdict += f" | opened leading={own.wait_leader(WAIT)}"
        except BaseException as exc:  # noqa: BLE001
            verdict += f" | {type(exc).__name__}: {exc}"
        except BaseException as exc:  # noqa: BLE001 - anything else is the failure we report
            verdict = f"{type(exc).__name__}: {exc}"
        os.write(write, verdict.encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        verdict = f.read()
    assert status == 0
    closed, opened = verdict.split(" | ")
    assert closed.startswith("closed leading=False") and "fork" in closed, verdict
    assert opened == "opened leading=True", verdict
    assert e.is_leader, "the parent keeps leading"


def test_errors_raised_in_python_carry_core_codes() -> None:
    assert elect.ClosedError("x").code_name == "closed"
    assert elect.InvalidArgumentError("x").code == 1
    assert elect.ElectError("x").code_name == "unknown"
