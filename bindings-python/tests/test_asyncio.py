"""The asyncio API: async with, wait_leader_async and the async iterator of events."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import List

import pytest

import elect
from conftest import WAIT, Held, OpenElection


def test_async_with_wait_and_events(store_uri: str, name: str) -> None:
    async def main() -> List[elect.Event]:
        async with elect.Election(store_uri, name, id="a", ttl=2.0, renew=0.5) as e:
            events = e.events()
            e.start()
            assert await e.wait_leader_async(timeout=WAIT)
            token = e.fencing_token
            got: List[elect.Event] = []
            async for event in events:
                got.append(event)
                if isinstance(event, elect.Elected):
                    assert event.term == token
                    assert await e.leader_async() == elect.LeaderInfo("a", "", event.term)
                    assert await e.members_async() == [elect.Member("a", "")]
                    await e.resign_async()
                if isinstance(event, elect.Revoked):
                    break
            assert got[-1] == elect.Revoked(token, "resigned")  # type: ignore[arg-type]
            rest = e.events()
        # Leaving the block closed the election: the stream ends after the last events.
        tail = [event async for event in rest]
        assert all(not isinstance(ev, elect.Elected) or ev.term > token for ev in tail)  # type: ignore[operator]
        return got

    got = asyncio.run(asyncio.wait_for(main(), 2 * WAIT))
    followed = (elect.LeaderChanged, elect.MemberJoined, elect.MemberLeft)
    assert [type(e) for e in got if not isinstance(e, followed)] == [elect.Elected, elect.Revoked]


def test_wait_leader_async_times_out_without_blocking_the_loop(held: Held) -> None:
    holder, waiter = held

    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        assert await waiter.wait_leader_async(timeout=0.5) is False
        ticker.cancel()
        return ticks

    assert asyncio.run(main()) >= 10  # the loop kept running while we waited

    async def takeover() -> bool:
        wait = asyncio.ensure_future(waiter.wait_leader_async(timeout=WAIT))
        await asyncio.sleep(0.05)
        await asyncio.get_running_loop().run_in_executor(None, holder.close)
        return await wait

    assert asyncio.run(takeover()) is True
    assert waiter.is_leader


def test_wait_leader_async_raises_closed_when_closed_meanwhile(held: Held) -> None:
    _, waiter = held

    async def main() -> None:
        wait = asyncio.ensure_future(waiter.wait_leader_async())
        await asyncio.sleep(0.05)
        await asyncio.get_running_loop().run_in_executor(None, waiter.close)
        with pytest.raises(elect.ClosedError):
            await asyncio.wait_for(wait, WAIT)
        with pytest.raises(elect.ClosedError):
            await waiter.wait_leader_async()

    asyncio.run(main())


def test_leadership_async_ends_cleanly_when_leadership_is_lost(open_election: OpenElection) -> None:
    e = open_election("a")

    async def main() -> List[int]:
        batches: List[int] = []
        async with e.leadership_async(timeout=WAIT) as lead:
            asyncio.get_running_loop().call_later(0.3, lambda: threading.Thread(target=e.resign).start())
            started = time.monotonic()
            while lead.active:
                batches.append(lead.token)
                await lead.sleep_async(30.0)  # must wake at the loss, not after 30s
            assert time.monotonic() - started < 5.0
            lead.check()  # raises NotLeaderError, which the block swallows
            pytest.fail("check() did not raise after the loss")
        assert not lead.active
        return batches

    assert asyncio.run(asyncio.wait_for(main(), 2 * WAIT))
