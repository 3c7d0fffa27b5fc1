"""Observability: core's log records in :mod:`logging`, metrics snapshots and health.

Core's records go to loggers under ``elect`` (``elect.core.event_log`` for leadership changes,
``elect.core.backend.redis.keepalive`` ...), each with the attributes ``election``, ``store``
(password as ``***``), ``id`` and ``term`` (None when the record has none) and ``fields`` (every
other field), and with the well-known fields appended to the message so that a plain formatter
shows them. Core filters by level before it formats anything: it delivers INFO and above unless
:func:`set_log_level` says otherwise, and :mod:`logging`'s own levels filter further.
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Optional, Protocol, Tuple

from . import _native

#: Core's levels (1 error .. 5 trace) as :mod:`logging` levels; trace is below DEBUG.
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG, 5: 5}


def _logger_name(target: str) -> str:
    """``elect_core::backend::redis`` -> ``elect.core.backend.redis``."""
    parts = target.split("::")
    head = parts[0]
    if head.startswith("elect_"):
        parts[0] = "elect." + head[len("elect_"):]
    return ".".join(parts)


def _sink(raw: Tuple[object, ...]) -> None:
    thread = threading.current_thread()
    if thread.name.startswith("Dummy-"):  # the library's log thread is native: name it
        thread.name = "elect-log"
    level, target, message, election, store, id_, term, fields = raw
    levelno = _LEVELS.get(int(level), logging.DEBUG)  # type: ignore[call-overload]
    logger = logging.getLogger(_logger_name(str(target)))
    if not logger.isEnabledFor(levelno):
        return
    extra_fields: Dict[str, str] = dict(fields)  # type: ignore[call-overload]
    known = [("election", election), ("store", store), ("id", id_), ("term", term)]
    text = " ".join(f"{k}={v}" for k, v in [*known, *extra_fields.items()] if v is not None)
    logger.log(
        levelno,
        "%s%s",
        message,
        f" ({text})" if text else "",
        extra={"election": election, "store": store, "id": id_, "term": term,
               "fields": extra_fields},
    )


def set_log_level(level: Optional[int]) -> None:
    """The most verbose :mod:`logging` level core delivers to the ``elect`` loggers (INFO by
    default); ``None`` stops delivery. Records below it are never formatted."""
    if level is None or level > logging.ERROR:
        _native.set_log_sink(None, 1)
        return
    core = next((c for c, py in sorted(_LEVELS.items()) if py <= level), 5)
    _native.set_log_sink(_sink, core)


def log_records_dropped() -> int:
    """Records dropped because the handlers of the ``elect`` loggers did not keep up."""
    return _native.log_records_dropped()


@dataclass(frozen=True)
class Stats:
    """One election's metrics at one instant (:meth:`Election.stats`)."""

    #: Terms this candidate won.
    terms_won: int
    #: Ended leaderships, by reason (every reason present).
    revocations: Mapping[str, int]
    #: Store errors the election recovered from.
    store_errors: int
    #: Times the store answered again after an error.
    reconnects: int
    #: Times the leadership moved to another candidate, as this process saw it.
    failovers: int
    #: When the leadership last moved to another candidate, as this process saw it.
    last_failover: Optional[datetime.datetime]
    #: Seconds this leader may still believe it leads without a renewal; None when not leading.
    lease_remaining: Optional[float]
    #: Round trip of the last confirmed renewal, in seconds; None before the first.
    store_rtt: Optional[float]
    #: False from a store error until the store answers again.
    store_connected: bool


def stats_from_native(raw: Tuple[object, ...]) -> Stats:
    terms, revocations, errors, reconnects, failover, lease, rtt, connected, failovers = raw
    when = None
    if failover is not None:
        when = datetime.datetime.fromtimestamp(float(failover), datetime.timezone.utc)  # type: ignore[arg-type]
    return Stats(
        terms_won=int(terms),  # type: ignore[call-overload]
        revocations=dict(revocations),  # type: ignore[call-overload]
        store_errors=int(errors),  # type: ignore[call-overload]
        reconnects=int(reconnects),  # type: ignore[call-overload]
        failovers=int(failovers),  # type: ignore[call-overload]
        last_failover=when,
        lease_remaining=lease,  # type: ignore[arg-type]
        store_rtt=rtt,  # type: ignore[arg-type]
        store_connected=bool(connected),
    )


@dataclass(frozen=True)
class Health:
    """What a health probe reports of one election (:meth:`Election.health`), read locally."""

    #: False when closed, or when it still says it leads past its lease deadline (wedged).
    ok: bool
    state: str
    leading: bool
    store_connected: bool
    lease_remaining: Optional[float]

    def as_dict(self) -> Dict[str, object]:
        return {"ok": self.ok, "state": self.state, "leading": self.leading,
                "store_connected": self.store_connected, "lease_remaining": self.lease_remaining}


class HasHealth(Protocol):
    """What :func:`healthz` needs of an election."""

    @property
    def name(self) -> str: ...

    def health(self) -> Health: ...


def healthz(elections: Iterable[HasHealth]) -> Tuple[int, Dict[str, object]]:
    """``(status, body)`` for a ``/healthz`` handler: 200 when every election is healthy, 503
    otherwise; ``body`` maps each election's name to :meth:`Health.as_dict`. No store round
    trip, so it is cheap to probe often::

        status, body = elect.healthz([election])
        return JSONResponse(body, status_code=status)
    """
    body: Dict[str, object] = {}
    ok = True
    for e in elections:
        h = e.health()
        ok = ok and h.ok
        body[e.name] = h.as_dict()
    return (200 if ok else 503), body

