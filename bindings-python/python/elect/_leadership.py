"""Running work only while leading: the ``leadership()`` scope and the ``leader_only`` decorator."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import sys
import threading
from typing import TYPE_CHECKING, Awaitable, Callable, List, Optional, Tuple, TypeVar

from ._aio import resolve
from ._errors import NotLeaderError

if sys.version_info >= (3, 10):
    from typing import ParamSpec
else:  # pragma: no cover - exercised on 3.9 only
    from typing_extensions import ParamSpec

if TYPE_CHECKING:
    from . import _native
    from ._election import Election

_log = logging.getLogger("elect")

P = ParamSpec("P")
R = TypeVar("R")


class Leadership:
    """One term of leadership, as handed out by :meth:`Election.leadership`.

    The block's work checks it between steps and leaves when it is over::

        with election.leadership() as lead:
            while lead.active:
                run_one_batch(fencing_token=lead.token)
                lead.sleep(5.0)        # wakes early when the leadership is lost

    ``lead.check()`` raises :class:`NotLeaderError` once the term is over; the ``with`` swallows
    that error, so deep code can bail out with it and the block still ends cleanly. With
    asyncio: ``async with election.leadership_async() as lead:`` and
    ``await lead.sleep_async(5.0)``, or ``await lead.run(coro)``, which cancels ``coro`` when the
    term ends.

    :attr:`lost` is set the moment the term ends, before the Revoked event is delivered (and,
    with the ``drain`` option, when ``resign()``/``close()`` asks the work to stop: they then
    wait, at most until the lease deadline, for the block to be left before giving up the
    lease).
    """

    def __init__(self, election: "Election", token: int, term: "Optional[_native.Term]" = None):
        #: The fencing token of this term: hand it to every resource the work writes.
        self.token = token
        #: Set when this term ends (revoked, lease expired, closed) or the block is left.
        self.lost = threading.Event()
        self._election = election
        self._guard = threading.Lock()
        self._async_sleepers: List[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[bool]"]] = []
        self._term = term
        if term is not None:
            threading.Thread(target=self._watch, args=(term,), name=f"elect-term-{token}", daemon=True).start()

    def _watch(self, term: "_native.Term") -> None:
        """Ends this scope when core cancels the term; gives up once the block is left."""
        while not self.lost.is_set():
            if term.wait(0.5):
                self.end()
                return

    @property
    def remaining(self) -> Optional[float]:
        """Seconds of lease left to this term, None once it is over."""
        if self.lost.is_set():
            return None
        if self._term is not None:
            return self._term.remaining()
        return self._election.lease_remaining if self.active else None

    @property
    def active(self) -> bool:
        """Whether this term still holds: checks the lease deadline, so it turns False in time
        even before the Revoked event is delivered."""
        return not self.lost.is_set() and self._election.fencing_token == self.token

    def check(self) -> None:
        """Raises :class:`NotLeaderError` if this term is over."""
        if not self.active:
            raise NotLeaderError(f"the leadership of term {self.token} is over")

    def sleep(self, seconds: float) -> bool:
        """Sleeps up to ``seconds``, waking early when the term ends; returns :attr:`active`."""
        self.lost.wait(seconds)
        return self.active

    async def sleep_async(self, seconds: float) -> bool:
        """:meth:`sleep` for asyncio: wakes early when the term ends; returns :attr:`active`."""
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[bool]" = loop.create_future()
        with self._guard:
            self._async_sleepers.append((loop, fut))
        try:
            if not self.lost.is_set():  # checked after registering: end() sets lost first
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(fut, seconds)
            return self.active
        finally:
            with self._guard:
                self._async_sleepers.remove((loop, fut))

    async def run(self, work: Awaitable[R]) -> R:
        """Runs ``work`` as a task of the running loop and returns its result; when the term
        ends first, cancels it (awaiting its cleanup) and raises :class:`NotLeaderError`."""
        loop = asyncio.get_running_loop()
        task: "asyncio.Future[R]" = asyncio.ensure_future(work)
        ended: "asyncio.Future[bool]" = loop.create_future()
        with self._guard:
            self._async_sleepers.append((loop, ended))
        try:
            if not self.lost.is_set():
                waits: "List[asyncio.Future[object]]" = [task, ended]  # type: ignore[list-item]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                return task.result()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise NotLeaderError(f"the leadership of term {self.token} ended: the work was cancelled")
        finally:
            with self._guard:
                self._async_sleepers.remove((loop, ended))
            if not task.done():
                task.cancel()

    def end(self) -> None:
        """Marks this term over and wakes every sleeper (from any thread)."""
        self.lost.set()
        with self._guard:
            sleepers = list(self._async_sleepers)
        for loop, fut in sleepers:
            resolve(loop, fut, True)

    def _revoked(self, term: int) -> None:
        if term == self.token:
            self.end()

    def __repr__(self) -> str:
        return f"<elect.Leadership token={self.token} active={self.active}>"


def leader_only(
    election: "Election", *, min_lease: float = 0.0
) -> Callable[[Callable[P, R]], Callable[P, Optional[R]]]:
    """Decorator for scheduled jobs: the function runs only while ``election`` leads, and
    returns None without running otherwise.

    ``min_lease`` (seconds): a run starts only if at least that much lease is left, so a run
    that could not finish before the lease deadline is not started. A run holds the term while
    it runs: with the ``drain`` option, ``resign()``/``close()`` wait for it to finish (never
    past the deadline) before giving up the lease.

    A function with a parameter named ``fencing_token`` gets the current token in it (give it a
    default, e.g. ``fencing_token: int = 0``, so callers need not pass one)::

        @elect.leader_only(election, min_lease=2.0)
        def rotate(*, fencing_token: int = 0) -> None:
            storage.write(data, token=fencing_token)

        scheduler.every(60, rotate)      # every instance schedules it; one runs it
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, Optional[R]]:
        wants_token = "fencing_token" in inspect.signature(fn).parameters
        label = getattr(fn, "__qualname__", fn)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> Optional[R]:
            term = election._native.term(min_lease)
            if term is None:
                left = election.lease_remaining
                if left is None:
                    _log.debug("%s skipped: not the leader of %s", label, election.name)
                else:
                    _log.info("%s skipped: %.3fs of lease left in %s, less than min_lease %.3fs",
                              label, left, election.name, min_lease)
                return None
            try:
                if wants_token:
                    kwargs["fencing_token"] = term.token
                return fn(*args, **kwargs)
            finally:
                term.release()

        return run

    return decorate
