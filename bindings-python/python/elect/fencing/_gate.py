"""The highest token per election, admitting a newer term only after the older one's requests.

A check at the start of a request is atomic with the request's write only if no older-token
request is still writing once a newer token has been admitted. So a gate admits a token equal to
the current one at once, makes a newer one wait until the requests in flight have left, and
refuses a token lower than the newest it has seen (also while that one waits).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Dict, Optional


@dataclass
class _Fence:
    current: int = 0  # the token whose requests may run
    newest: int = 0  # the highest token seen, maybe still waiting for `current` to drain
    active: int = 0  # requests of `current` in flight


class _Book:
    """The state of every election's fence; callers hold the gate's lock."""

    def __init__(self) -> None:
        self.fences: Dict[str, _Fence] = {}

    def try_enter(self, election: str, token: int) -> Optional[int]:
        """0 if admitted, the newest token if ``token`` is stale, None to wait."""
        f = self.fences.setdefault(election, _Fence())
        f.newest = max(f.newest, token)
        if token < f.newest:
            return f.newest
        if token == f.current:
            f.active += 1
            return 0
        if f.active == 0:
            f.current, f.active = token, 1
            return 0
        return None

    def leave(self, election: str) -> bool:
        """True when the last request of the current token left (waiters may go)."""
        f = self.fences[election]
        f.active -= 1
        return f.active == 0

    def highest(self, election: str) -> int:
        f = self.fences.get(election)
        return f.newest if f else 0


class FenceGate:
    """The gate for threads (WSGI servers). Share one per resource across middlewares."""

    def __init__(self) -> None:
        self._book = _Book()
        self._cond = threading.Condition()

    def enter(self, election: str, token: int) -> Optional[int]:
        """None if admitted (call :meth:`leave` when the request is done), else the newer token."""
        with self._cond:
            while True:
                r = self._book.try_enter(election, token)
                if r is not None:
                    return r or None
                self._cond.wait()

    def leave(self, election: str) -> None:
        with self._cond:
            if self._book.leave(election):
                self._cond.notify_all()

    def highest(self, election: str) -> int:
        """The highest token seen for ``election`` (0 before the first)."""
        with self._cond:
            return self._book.highest(election)


class AsyncFenceGate:
    """The gate for one asyncio event loop (ASGI servers)."""

    def __init__(self) -> None:
        self._book = _Book()
        self._cond: Optional[asyncio.Condition] = None

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:  # made in the loop that serves, not where the app is built
            self._cond = asyncio.Condition()
        return self._cond

    async def enter(self, election: str, token: int) -> Optional[int]:
        """None if admitted (call :meth:`leave` when the request is done), else the newer token."""
        cond = self._condition()
        async with cond:
            while True:
                r = self._book.try_enter(election, token)
                if r is not None:
                    return r or None
                await cond.wait()

    async def leave(self, election: str) -> None:
        cond = self._condition()
        async with cond:
            if self._book.leave(election):
                cond.notify_all()

    def highest(self, election: str) -> int:
        """The highest token seen for ``election`` (0 before the first)."""
        return self._book.highest(election)
