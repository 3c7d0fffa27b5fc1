"""asyncio support: events and leadership delivered from the dispatcher thread to a loop."""

from __future__ import annotations

import asyncio
from typing import Callable, Union

from ._types import Event


class _End:
    """Marks the end of a stream: the election was closed."""


_END = _End()


class EventStream:
    """An async iterator of an election's events, from subscription until the election closes.

    Events are handed to the loop with ``call_soon_threadsafe``; nothing is dropped or
    reordered. Break out of ``async for`` at any time; ``close()`` (or leaving an
    ``async with`` of the stream) stops the subscription.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, unsubscribe: Callable[["EventStream"], None]):
        self._loop = loop
        self._queue: "asyncio.Queue[Union[Event, _End]]" = asyncio.Queue()
        self._unsubscribe = unsubscribe

    def push(self, item: Union[Event, _End]) -> None:
        """From any thread."""
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody can read this stream any more
            self._unsubscribe(self)

    def end(self) -> None:
        self.push(_END)

    def close(self) -> None:
        self._unsubscribe(self)

    def __aiter__(self) -> "EventStream":
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # the stream stays ended for later calls
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> "EventStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def resolve(loop: asyncio.AbstractEventLoop, fut: "asyncio.Future[bool]", result: Union[bool, BaseException]) -> None:
    """Completes ``fut`` on its loop, from any thread, unless it is done (cancelled, timed out)."""

    def settle() -> None:
        if fut.done():
            return
        if isinstance(result, BaseException):
            fut.set_exception(result)
        else:
            fut.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # loop closed: nobody waits any more
        pass
