"""The exception hierarchy, and the one table from core's error codes to it.

Core numbers its error codes once (``core/src/error.rs``); this table maps every code to a
class and nothing else does. ``elect._native`` builds every exception through
:func:`from_code`. Where a built-in exception means the same thing, the class also derives
from it, so ``except TimeoutError`` or ``except ValueError`` work as a Python user expects.
"""

from __future__ import annotations

import builtins
from typing import Dict, Type

from . import _native


class ElectError(Exception):
    """Base class of every error raised by ``elect``.

    ``code`` is core's numeric error code and ``code_name`` its stable name
    (``invalid_argument``, ``closed``...), the same in every language binding.
    """

    code: int = -1
    code_name: str = "unknown"

    def __init__(self, message: str, *, code: int | None = None, code_name: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if code_name is not None:
            self.code_name = code_name


class InvalidArgumentError(ElectError, ValueError):
    """A malformed connection string, an unknown option, a bad duration, ``renew >= ttl``..."""


class ConnectionError(ElectError, builtins.ConnectionError):
    """The store could not be used: the base of :class:`UnreachableError` and :class:`AuthError`."""


class UnreachableError(ConnectionError):
    """The store could not be reached (connection refused, DNS, connect timeout)."""


class AuthError(ConnectionError):
    """The store refused the credentials or the certificate."""


class PermissionDeniedError(ElectError, builtins.PermissionError):
    """The store refused an operation for lack of privilege."""


class TimeoutError(ElectError, builtins.TimeoutError):
    """A wait ran out of time, or the store did not answer in time."""


class NotLeaderError(ElectError):
    """The operation needs leadership and this candidate does not lead (or no longer does)."""


class ClosedError(ElectError):
    """The election is closed, or was opened by the parent of a forked process."""


class StoreError(ElectError):
    """The store answered with an error that is none of the others."""


class UnsupportedError(ElectError):
    """The connection string names a store that this build does not include."""


class WrongStateError(ElectError):
    """The call is not valid in the election's current state (``start()`` after ``observe()``)."""


class InternalError(ElectError):
    """A bug in elect; please report it with the message."""


#: Core's error code -> exception class. Code 0 (``ok``) is never raised.
CODES: Dict[int, Type[ElectError]] = {
    1: InvalidArgumentError,
    2: UnreachableError,
    3: AuthError,
    4: TimeoutError,
    5: NotLeaderError,
    6: ClosedError,
    7: StoreError,
    8: UnsupportedError,
    9: WrongStateError,
    10: InternalError,
    11: PermissionDeniedError,
}


def _name_the_codes() -> None:
    """Gives every class its code and core's name for it, so that ``ClosedError("...")``
    raised by the Python layer carries the same ``code``/``code_name`` as one from core."""
    names = dict(_native.error_codes())
    for code, cls in CODES.items():
        cls.code, cls.code_name = code, names[code]


_name_the_codes()


def from_code(code: int, code_name: str, message: str) -> ElectError:
    """The exception for one of core's errors; an unknown (newer) code gives a plain ElectError."""
    cls = CODES.get(code, ElectError)
    return cls(message, code=code, code_name=code_name)
