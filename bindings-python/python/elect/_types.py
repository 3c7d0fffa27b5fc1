"""The values an election hands out: who leads, who campaigns, and its events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, NamedTuple, Optional, Tuple, Union


class LeaderInfo(NamedTuple):
    """Who leads an election: candidate id, its value, and its fencing token ``term``."""

    id: str
    value: str
    term: int


class Member(NamedTuple):
    """A live candidate of an election."""

    id: str
    value: str


@dataclass(frozen=True)
class Elected:
    """This candidate leads, with fencing token ``term``."""

    term: int


@dataclass(frozen=True)
class Revoked:
    """The leadership of ``term`` ended; ``reason`` is ``resigned``, ``lease_expired``,
    ``session_lost``, ``store_unreachable``, ``closed`` or ``preempted`` (handed over to a named
    successor: ``hand_over_to`` or priority preemption). Always before a later Elected."""

    term: int
    reason: str


@dataclass(frozen=True)
class LeaderChanged:
    """The leader changed; ``leader`` is None while nobody leads."""

    leader: Optional[LeaderInfo]


@dataclass(frozen=True)
class ErrorEvent:
    """Something went wrong that the election recovers from by itself."""

    message: str


@dataclass(frozen=True)
class _MemberEvent:
    """A change of the members: ``member`` is the candidate that joined or left."""

    member: Member


class MemberJoined(_MemberEvent):
    """A candidate joined (every member present when following starts is reported first)."""


class MemberLeft(_MemberEvent):
    """A candidate left: it closed, or its record expired after a crash."""


Event = Union[Elected, Revoked, LeaderChanged, ErrorEvent, MemberJoined, MemberLeft]


def leader_info(raw: Optional[Tuple[str, str, int]]) -> Optional[LeaderInfo]:
    return None if raw is None else LeaderInfo(*raw)


#: Why a leadership ends (``Revoked.reason``); the tests check it against core's table.
REVOKE_REASONS = ("resigned", "lease_expired", "session_lost", "store_unreachable", "closed",
                  "preempted")

#: The event object for each kind of ``elect._native``'s event tuples; the tests check the
#: kinds against core's table.
FROM_NATIVE: Dict[str, Callable[[Tuple[object, ...]], Event]] = {
    "elected": lambda raw: Elected(int(raw[1])),  # type: ignore[call-overload]
    "revoked": lambda raw: Revoked(int(raw[1]), str(raw[2])),  # type: ignore[call-overload]
    "leader_changed": lambda raw: LeaderChanged(leader_info(raw[1])),  # type: ignore[arg-type]
    "error": lambda raw: ErrorEvent(str(raw[1])),
    "member_joined": lambda raw: MemberJoined(Member(*raw[1])),  # type: ignore[misc]
    "member_left": lambda raw: MemberLeft(Member(*raw[1])),  # type: ignore[misc]
}


def event_from_native(raw: Tuple[object, ...]) -> Event:
    """The event object for one of ``elect._native``'s event tuples."""
    return FROM_NATIVE[str(raw[0])](raw)
