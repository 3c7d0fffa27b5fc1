"""The public :class:`Election`: the native election with Pythonic options, events and asyncio."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import threading
import time
import weakref
from types import TracebackType
from typing import AsyncIterator, Callable, Iterator, List, Mapping, Optional, Tuple, Type

from . import _native
from ._aio import EventStream, resolve
from ._errors import ClosedError, NotLeaderError, TimeoutError
from ._leadership import Leadership
from ._observe import Health, Stats, stats_from_native
from ._options import Seconds, flag, integer, text, to_pairs
from ._types import (Elected, ErrorEvent, Event, LeaderChanged, LeaderInfo, Member, MemberJoined, MemberLeft, Revoked,
                     event_from_native, leader_info)

_log = logging.getLogger("elect")

#: Elections not yet garbage-collected: closed at exit (before the interpreter tears down the
#: threads callbacks need) and given fresh locks in a forked child.
_live: "weakref.WeakSet[Election]" = weakref.WeakSet()



class Election:
    """One election on one store: campaign with :meth:`start`, or follow with :meth:`observe`.

    ``uri`` selects the store and may carry every option as query parameters
    (``file:///var/lib/elect?ttl=5s``); the keywords set the same options and win over the
    URI. Durations are seconds or ``timedelta``. ``options`` sets store-specific options (TLS
    files...). Callbacks run in order, one at a time, on the library's callback threads (a
    bounded pool shared by every election), with the GIL: ``on_elected(term)``, ``on_revoked(term, reason)``, ``on_leader_changed(LeaderInfo | None)``,
    ``on_error(message)``, ``on_member_joined(Member)``, ``on_member_left(Member)``. An exception in a callback is logged (logger ``elect``) and sent to
    ``sys.unraisablehook``; the election carries on.

    Every method may be called from any thread. After :meth:`close` they raise
    :class:`ClosedError`, except the cheap reads ``is_leader`` (False) and ``fencing_token``
    (None).
    """

    def __init__(
        self,
        uri: str,
        name: str,
        *,
        id: Optional[str] = None,
        value: Optional[str] = None,
        ttl: Optional[Seconds] = None,
        renew: Optional[Seconds] = None,
        retry: Optional[Seconds] = None,
        silence: Optional[Seconds] = None,
        connect_timeout: Optional[Seconds] = None,
        margin: Optional[Seconds] = None,
        drain: Optional[Seconds] = None,
        priority: Optional[int] = None,
        preempt: Optional[bool] = None,
        holdoff: Optional[Seconds] = None,
        sticky: Optional[Seconds] = None,
        options: Optional[Mapping[str, str]] = None,
        on_elected: Optional[Callable[[int], object]] = None,
        on_revoked: Optional[Callable[[int, str], object]] = None,
        on_leader_changed: Optional[Callable[[Optional[LeaderInfo]], object]] = None,
        on_error: Optional[Callable[[str], object]] = None,
        on_member_joined: Optional[Callable[[Member], object]] = None,
        on_member_left: Optional[Callable[[Member], object]] = None,
    ) -> None:
        text("uri", uri)
        text("name", name)
        pairs = to_pairs(
            options,
            {"id": id, "value": value, "priority": integer("priority", priority),
             "preempt": flag("preempt", preempt)},
            {"ttl": ttl, "renew": renew, "retry": retry, "silence": silence,
             "connect_timeout": connect_timeout, "margin": margin, "drain": drain,
             "holdoff": holdoff, "sticky": sticky},
        )
        self._on_elected = on_elected
        self._on_revoked = on_revoked
        self._on_leader_changed = on_leader_changed
        self._on_error = on_error
        self._on_member_joined = on_member_joined
        self._on_member_left = on_member_left
        self._lock = threading.Lock()
        self._streams: List[EventStream] = []
        self._waiters: List[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[bool]"]] = []
        self._leaderships: List[Leadership] = []
        # The native election holds the handler; a weak reference back keeps the wrapper
        # collectable (and so closed by the native destructor) when the user drops it.
        me = weakref.ref(self)

        def handle(raw: Tuple[object, ...]) -> None:
            election = me()
            if election is not None:
                election._dispatch(raw)

        self._native = _native.Election(uri, name, pairs, handle)
        _live.add(self)

    # ----- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Begins campaigning in the background."""
        self._native.start()

    def observe(self) -> None:
        """Follows the leader and the members without campaigning (``on_leader_changed``,
        ``on_member_joined``, ``on_member_left``)."""
        self._native.observe()

    def resign(self) -> None:
        """Gives up the leadership now and campaigns again after ``silence``; returns once the
        store has it back. A no-op when not leading."""
        self._native.resign()

    def proclaim(self, value: str) -> None:
        """Publishes ``value`` as this leader's value without a new election: observers get
        ``on_leader_changed`` with the new value and the same term. Raises :class:`NotLeaderError`
        (and nothing changes) when this candidate does not lead or its term ended."""
        self._native.proclaim(value)

    def hand_over_to(self, successor: str) -> None:
        """Hands the leadership to the member ``successor`` (its id) without a gap or an
        overlap: the term's work is asked to stop (as by :meth:`resign`), then one store
        operation gives the leadership up and reserves it for ``successor``, which takes it at
        once while the other candidates keep waiting (the reservation lapses after one ttl).
        This candidate's ``on_revoked`` says ``preempted``; it campaigns again after
        ``silence``. Returns once the store has the leadership back; the GIL is released
        meanwhile.

        Raises :class:`NotLeaderError` (nothing changes) when this candidate does not lead,
        :class:`InvalidArgumentError` when ``successor`` is not a member of the election (as
        this candidate last saw them) or is this candidate itself."""
        self._native.hand_over_to(successor)

    def stats(self) -> Stats:
        """This election's metrics: a few atomic loads, no lock, no store round trip."""
        return stats_from_native(self._native.stats())

    def health(self) -> Health:
        """Whether this election is healthy, read locally (see :func:`elect.healthz`)."""
        state = self._native.state
        ok, leading, connected, lease = self._native.health()
        return Health(ok=ok, state=state, leading=leading, store_connected=connected,
                      lease_remaining=lease)

    def close(self) -> None:
        """Resigns, leaves the election and stops. Idempotent; safe inside a callback."""
        self._native.close()
        with self._lock:
            streams, self._streams = self._streams, []
            waiters, self._waiters = self._waiters, []
            leaderships, self._leaderships = self._leaderships, []
        for stream in streams:
            stream.end()
        for loop, fut in waiters:
            resolve(loop, fut, ClosedError("the election is closed"))
        for lead in leaderships:
            lead.end()

    def __enter__(self) -> "Election":
        return self

    def __exit__(self, et: Optional[Type[BaseException]], ev: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    async def __aenter__(self) -> "Election":
        return self

    async def __aexit__(self, et: Optional[Type[BaseException]], ev: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    # ----- reads ----------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """Whether this candidate leads now (checks the lease deadline; no I/O, no lock)."""
        return self._native.is_leader()

    @property
    def fencing_token(self) -> Optional[int]:
        """The fencing token of the current term, None when not leading."""
        return self._native.fencing_token()

    @property
    def lease_remaining(self) -> Optional[float]:
        """Seconds of lease left before this leader stops believing it leads, None when not
        leading. No I/O: check it before starting work that must finish within the term."""
        return self._native.lease_remaining()

    @property
    def leader(self) -> Optional[LeaderInfo]:
        """Who leads now, read from the store (None while nobody does)."""
        return leader_info(self._native.leader())

    def members(self) -> List[Member]:
        """The live candidates, read from the store."""
        return [Member(*m) for m in self._native.members()]

    @property
    def id(self) -> str:
        return self._native.id

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def state(self) -> str:
        """``idle``, ``campaigning``, ``leading``, ``revoked``, ``observing`` or ``closed``."""
        return self._native.state

    def __repr__(self) -> str:
        return f"<elect.Election name={self.name!r} id={self.id!r} state={self.state}>"

    # ----- waiting --------------------------------------------------------------------------

    def wait_leader(self, timeout: Optional[float] = None) -> bool:
        """Blocks until this candidate leads (True) or ``timeout`` seconds pass (False).
        Releases the GIL while waiting; raises ClosedError if closed meanwhile."""
        return self._native.wait_leader(timeout)

    async def wait_leader_async(self, timeout: Optional[float] = None) -> bool:
        """:meth:`wait_leader` for asyncio: woken by the Elected event, no thread blocked."""
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[bool]" = loop.create_future()
        with self._lock:
            self._waiters.append((loop, fut))
        try:
            # Registered first, then checked, so an Elected in between is not missed. A zero
            # wait also raises what wait_leader raises (closed, not started).
            if self._native.wait_leader(0.0):
                return True
            try:
                return await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                return False
        finally:
            with self._lock:
                with contextlib.suppress(ValueError):
                    self._waiters.remove((loop, fut))

    async def resign_async(self) -> None:
        """:meth:`resign` on the loop's default executor (it waits for the store)."""
        await asyncio.get_running_loop().run_in_executor(None, self.resign)

    async def leader_async(self) -> Optional[LeaderInfo]:
        """:attr:`leader` on the loop's default executor (it reads the store)."""
        return await asyncio.get_running_loop().run_in_executor(None, lambda: self.leader)

    async def members_async(self) -> List[Member]:
        """:meth:`members` on the loop's default executor (it reads the store)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.members)

    def events(self) -> EventStream:
        """An async iterator of the events from now until the election closes. Call it from a
        coroutine: ``async for event in election.events(): ...``."""
        stream = EventStream(asyncio.get_running_loop(), self._unsubscribe)
        with self._lock:
            self._streams.append(stream)
        if self._native.state == "closed":  # close() may have run before we subscribed
            stream.end()
        return stream

    def _unsubscribe(self, stream: EventStream) -> None:
        with self._lock:
            with contextlib.suppress(ValueError):
                self._streams.remove(stream)

    @contextlib.contextmanager
    def leadership(self, timeout: Optional[float] = None, *, resign_on_exit: bool = False) -> Iterator[Leadership]:
        """Blocks until elected (starting the campaign if needed), then runs the block with a
        :class:`Leadership` for that term; see its docs for the loop pattern. A
        :class:`NotLeaderError` raised in the block after the term ended is swallowed: losing
        the leadership ends the block cleanly. Raises TimeoutError if not elected in time.
        With ``resign_on_exit``, leaving the block while still leading resigns."""
        token = self._wait_token(timeout)
        try:
            with self._term(token) as lead:
                yield lead
        finally:
            if resign_on_exit and self.fencing_token == token:
                self.resign()

    @contextlib.asynccontextmanager
    async def leadership_async(
        self, timeout: Optional[float] = None, *, resign_on_exit: bool = False
    ) -> AsyncIterator[Leadership]:
        """:meth:`leadership` for asyncio: ``async with e.leadership_async() as lead:``, with
        ``await lead.sleep_async(seconds)`` between steps."""
        deadline = self._campaign(timeout)
        while (token := self._token_if(await self.wait_leader_async(_left(deadline)), timeout)) is None:
            pass
        try:
            with self._term(token) as lead:
                yield lead
        finally:
            if resign_on_exit and self.fencing_token == token:
                await self.resign_async()

    def _campaign(self, timeout: Optional[float]) -> Optional[float]:
        """Starts campaigning if idle; the deadline of a wait of ``timeout`` seconds."""
        if self.state == "idle":
            self.start()
        return None if timeout is None else time.monotonic() + timeout

    def _wait_token(self, timeout: Optional[float]) -> int:
        """Waits (blocking) for a term; its token."""
        deadline = self._campaign(timeout)
        while (token := self._token_if(self.wait_leader(_left(deadline)), timeout)) is None:
            pass
        return token

    def _token_if(self, elected: bool, timeout: Optional[float]) -> Optional[int]:
        """After a wait: the token, or None if the term already ended (wait again)."""
        if not elected:
            raise TimeoutError(f"not elected within {timeout}s")
        return self.fencing_token

    @contextlib.contextmanager
    def _term(self, token: int) -> Iterator[Leadership]:
        """One term's scope: listens for its end, and swallows a NotLeaderError raised once it
        is over, so that losing the leadership ends the block cleanly."""
        native_term = self._native.term()
        if native_term is not None and native_term.token != token:
            native_term.release()  # a later term: this one is over
            native_term = None
        lead = Leadership(self, token, native_term)
        with self._lock:
            self._leaderships.append(lead)
        if not lead.active:  # lost before we listened: the Revoked may already be gone
            lead.end()
        try:
            yield lead
        except NotLeaderError:
            if lead.active:
                raise
            _log.info("%s: leadership of term %d lost; the block ended", self.name, token)
        finally:
            lead.end()
            if native_term is not None:
                native_term.release()  # what a draining resign()/close() waits for
            with self._lock:
                with contextlib.suppress(ValueError):
                    self._leaderships.remove(lead)

    # ----- events (callback threads) ---------------------------------------------------------

    def _dispatch(self, raw: Tuple[object, ...]) -> None:
        thread = threading.current_thread()
        if thread.name.startswith("Dummy-"):  # a native callback thread of the library: name it
            thread.name = "elect-events"
        event = event_from_native(raw)
        with self._lock:
            streams = list(self._streams)
            leaderships = list(self._leaderships) if isinstance(event, Revoked) else []
            waiters = list(self._waiters) if isinstance(event, Elected) else []
        for lead in leaderships:
            lead._revoked(event.term)  # type: ignore[union-attr]
        for loop, fut in waiters:
            resolve(loop, fut, True)
        for stream in streams:
            stream.push(event)
        self._callback(event)

    def _callback(self, event: Event) -> None:
        callback: Optional[Callable[..., object]]
        args: Tuple[object, ...]
        if isinstance(event, Elected):
            callback, args = self._on_elected, (event.term,)
        elif isinstance(event, Revoked):
            callback, args = self._on_revoked, (event.term, event.reason)
        elif isinstance(event, LeaderChanged):
            callback, args = self._on_leader_changed, (event.leader,)
        elif isinstance(event, MemberJoined):
            callback, args = self._on_member_joined, (event.member,)
        elif isinstance(event, MemberLeft):
            callback, args = self._on_member_left, (event.member,)
        else:
            callback, args = self._on_error, (event.message,)
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:
            _log.error("%s: callback %r raised %r on %r; the election carries on", self._native.name, callback, exc, event)
            _native.write_unraisable(exc, callback)


def _left(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


@atexit.register
def _close_all() -> None:
    for election in list(_live):
        election.close()


def reset_after_fork() -> None:
    """In a forked child: the parent's dispatcher threads are gone, and a lock one of them held
    at fork time would stay held forever."""
    for election in list(_live):
        election._lock = threading.Lock()
