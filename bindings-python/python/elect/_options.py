"""Keyword arguments of :class:`elect.Election` -> ``Config::set(key, value)`` pairs.

Durations are seconds (``float``/``int``) or ``datetime.timedelta``; core reads them as
milliseconds. Core validates every value (and ``renew < ttl``) the way it validates query
parameters, so the Python layer only checks what core cannot see: the Python types (a wrong type is a TypeError naming the argument).
"""

from __future__ import annotations

import datetime
import math
from typing import List, Mapping, Optional, Tuple, Union

from ._errors import InvalidArgumentError

Seconds = Union[float, int, datetime.timedelta]

DURATIONS = ("ttl", "renew", "retry", "silence", "connect_timeout", "margin", "drain", "holdoff", "sticky")


def duration(key: str, seconds: Seconds) -> str:
    if isinstance(seconds, datetime.timedelta):
        seconds = seconds.total_seconds()
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"option `{key}`: expected seconds (float) or a timedelta, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgumentError(f"option `{key}`: expected a finite number of seconds >= 0, got {seconds!r}")
    return f"{seconds * 1000:.3f}ms"


def integer(key: str, value: Optional[int]) -> Optional[str]:
    """An integer option as core reads it (core checks the range)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"option `{key}`: expected int, got {type(value).__name__}")
    return str(value)


def flag(key: str, value: Optional[bool]) -> Optional[str]:
    """A boolean option as core reads it."""
    if value is None:
        return None
    if not isinstance(value, bool):
        raise TypeError(f"option `{key}`: expected bool, got {type(value).__name__}")
    return "true" if value else "false"


def text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"`{key}`: expected str, got {type(value).__name__}")
    return value


def to_pairs(
    options: Optional[Mapping[str, str]],
    texts: Mapping[str, Optional[str]],
    durations: Mapping[str, Optional[Seconds]],
) -> List[Tuple[str, str]]:
    """Store options first, then the keywords, so an explicit keyword wins."""
    pairs = [(text("options", k), text(k, v)) for k, v in (options or {}).items()]
    pairs += [(k, text(k, v)) for k, v in texts.items() if v is not None]
    pairs += [(k, duration(k, v)) for k, v in durations.items() if v is not None]
    return pairs
