"""elect: leader election for Python services, on file, etcd, ZooKeeper, Redis or PostgreSQL.

::

    import elect

    with elect.Election("file:///var/lib/elect", "billing-cron", ttl=10.0) as e:
        e.start()
        if e.wait_leader(timeout=30.0):
            run_job(fencing_token=e.fencing_token)

See :class:`Election`, :meth:`Election.leadership` and :func:`leader_only`.
"""

import logging as _logging
import os as _os

from . import _election, _native
from ._aio import EventStream
from ._election import Election
from ._group import Group
from ._errors import (
    AuthError,
    ClosedError,
    ConnectionError,
    ElectError,
    InternalError,
    InvalidArgumentError,
    NotLeaderError,
    PermissionDeniedError,
    StoreError,
    TimeoutError,
    UnreachableError,
    UnsupportedError,
    WrongStateError,
)
from ._leadership import Leadership, leader_only
from ._observe import Health, Stats, healthz, log_records_dropped, set_log_level
from ._types import Elected, ErrorEvent, Event, LeaderChanged, LeaderInfo, Member, MemberJoined, MemberLeft, Revoked

__version__ = _native.VERSION

__all__ = [
    "AuthError",
    "ClosedError",
    "ConnectionError",
    "Elected",
    "ElectError",
    "Election",
    "ErrorEvent",
    "Event",
    "EventStream",
    "Group",
    "Health",
    "InternalError",
    "InvalidArgumentError",
    "LeaderChanged",
    "LeaderInfo",
    "Leadership",
    "Member",
    "MemberJoined",
    "MemberLeft",
    "NotLeaderError",
    "PermissionDeniedError",
    "Revoked",
    "Stats",
    "StoreError",
    "TimeoutError",
    "UnreachableError",
    "UnsupportedError",
    "WrongStateError",
    "healthz",
    "leader_only",
    "log_records_dropped",
    "set_log_level",
]


# A library logs but leaves the output to the application (logging.basicConfig and the like).
_logging.getLogger("elect").addHandler(_logging.NullHandler())
# Core's records (leadership changes, store errors) reach the `elect` loggers from INFO up.
set_log_level(_logging.INFO)


def _after_fork_in_child() -> None:
    _native.after_fork_in_child()
    _election.reset_after_fork()


# A forked child must not believe it leads with the parent's lease, nor block on the parent's
# threads: its copies of the parent's elections raise ClosedError with a clear message.
_os.register_at_fork(after_in_child=_after_fork_in_child)
