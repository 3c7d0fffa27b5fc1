"""The public :class:`Group`: one instance of a group of elections (shards) whose leaderships
spread evenly over the group's live instances (docs/group.md)."""

from __future__ import annotations

import logging
import weakref
from types import TracebackType
from typing import Callable, List, Mapping, Optional, Tuple, Type

from . import _native
from ._errors import InvalidArgumentError
from ._options import Seconds, text, to_pairs
from ._types import Elected, ErrorEvent, Event, LeaderChanged, LeaderInfo, Revoked, event_from_native

_log = logging.getLogger("elect")


class Group:
    """Joins group ``name`` with ``shards`` elections (``<name>/0`` ... ``<name>/<shards-1>``)
    and campaigns at once: the live instances of the group share the shards' leaderships
    evenly and hand them over without a gap as instances come and go. ``cap`` is the most
    leaderships this instance takes (``None``: no cap). Options as for :class:`Election`.

    Callbacks run one at a time on the group's own thread, with the GIL:
    ``on_elected(shard, term)``, ``on_revoked(shard, term, reason)`` (a shard handed over to
    another instance arrives with reason ``closed``), ``on_leader_changed(shard, LeaderInfo |
    None)``, ``on_error(shard, message)``. An exception in a callback is logged and sent to
    ``sys.unraisablehook``; the group carries on.
    """

    def __init__(
        self,
        uri: str,
        name: str,
        shards: int,
        *,
        cap: Optional[int] = None,
        id: Optional[str] = None,
        value: Optional[str] = None,
        ttl: Optional[Seconds] = None,
        renew: Optional[Seconds] = None,
        retry: Optional[Seconds] = None,
        connect_timeout: Optional[Seconds] = None,
        margin: Optional[Seconds] = None,
        drain: Optional[Seconds] = None,
        options: Optional[Mapping[str, str]] = None,
        on_elected: Optional[Callable[[int, int], object]] = None,
        on_revoked: Optional[Callable[[int, int, str], object]] = None,
        on_leader_changed: Optional[Callable[[int, Optional[LeaderInfo]], object]] = None,
        on_error: Optional[Callable[[int, str], object]] = None,
    ) -> None:
        text("uri", uri)
        text("name", name)
        for key, number in (("shards", shards), ("cap", cap)):
            if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
                raise TypeError(f"`{key}`: expected int, got {type(number).__name__}")
        if shards < 0 or (cap is not None and cap < 0):
            raise InvalidArgumentError(f"shards and cap: expected whole numbers >= 0, got {shards} and {cap}")
        pairs = to_pairs(
            options,
            {"id": id, "value": value},
            {"ttl": ttl, "renew": renew, "retry": retry, "connect_timeout": connect_timeout,
             "margin": margin, "drain": drain},
        )
        self._on_elected = on_elected
        self._on_revoked = on_revoked
        self._on_leader_changed = on_leader_changed
        self._on_error = on_error
        # A weak reference back, as in Election: the wrapper stays collectable (and so closed).
        me = weakref.ref(self)

        def handle(shard: int, raw: Tuple[object, ...]) -> None:
            group = me()
            if group is not None:
                group._dispatch(shard, raw)

        self._native = _native.Group(uri, name, shards, cap, pairs, handle)

    def is_leader(self, shard: int) -> bool:
        """Whether this instance leads ``shard`` now (lease deadline checked; no I/O)."""
        return self._native.is_leader(shard)

    def fencing_token(self, shard: int) -> Optional[int]:
        """The fencing token of this instance's term in ``shard``, None when it does not lead it."""
        return self._native.fencing_token(shard)

    @property
    def leading(self) -> List[int]:
        """The shards this instance leads now, in order."""
        return self._native.leading()

    @property
    def id(self) -> str:
        return self._native.id

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def shards(self) -> int:
        return self._native.shards

    def close(self) -> None:
        """Leaves every shard (each leadership goes at once to an instance waiting for it).
        Idempotent; safe inside a callback."""
        self._native.close()

    def __enter__(self) -> "Group":
        return self

    def __exit__(self, et: Optional[Type[BaseException]], ev: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<elect.Group name={self.name!r} id={self.id!r} shards={self.shards} leading={self.leading}>"

    def _dispatch(self, shard: int, raw: Tuple[object, ...]) -> None:
        event: Event = event_from_native(raw)
        callback: Optional[Callable[..., object]]
        args: Tuple[object, ...]
        if isinstance(event, Elected):
            callback, args = self._on_elected, (shard, event.term)
        elif isinstance(event, Revoked):
            callback, args = self._on_revoked, (shard, event.term, event.reason)
        elif isinstance(event, LeaderChanged):
            callback, args = self._on_leader_changed, (shard, event.leader)
        elif isinstance(event, ErrorEvent):
            callback, args = self._on_error, (shard, event.message)
        else:
            return
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:
            _log.error("%s: callback %r raised %r on shard %d %r; the group carries on", self.name, callback, exc, shard, event)
            _native.write_unraisable(exc, callback)
