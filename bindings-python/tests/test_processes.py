"""Three Python processes campaign for one election: one leads, a SIGKILLed leader is replaced,
a resigning leader is replaced at once."""

from __future__ import annotations

import time
from typing import List

from conftest import WAIT, AgentProcess, with_params

TTL = "2s"


def start_all(agents: List[AgentProcess], uri: str, name: str) -> None:
    # A long silence keeps a resigned leader from winning its own handover back.
    params = dict(ttl=TTL, renew="500ms", retry="200ms", silence="30s")
    for i, agent in enumerate(agents):
        agent.ok(f"open {with_params(uri, id=f'p{i}', **params)} {name}")
        agent.ok("start")


def the_leader(agents: List[AgentProcess]) -> int:
    """Index of the one agent that believes it leads; fails unless exactly one does."""
    end = time.monotonic() + WAIT
    while True:
        leading = [i for i, a in enumerate(agents) if a.ok("is_leader") == "true"]
        if len(leading) == 1:
            return leading[0]
        assert len(leading) == 0, f"several leaders at once: {leading}"
        assert time.monotonic() < end, "nobody was elected"
        agents[0].ok("wait_leader 200")  # a bounded pause that also returns on election


def test_one_leader_among_three_processes(agents: List[AgentProcess], store_uri: str, name: str) -> None:
    start_all(agents, store_uri, name)
    leader = the_leader(agents)
    token = int(agents[leader].ok("token"))
    assert token > 0
    assert agents[leader].expect_event("event elected") == f"event elected {token}"
    for agent in agents:
        assert agent.ok("leader") == f"p{leader} {token}"
        assert agent.ok("token") == (str(token) if agent is agents[leader] else "0")
    assert sorted(agents[0].ok("members").split(",")) == ["p0", "p1", "p2"]


def test_sigkill_of_the_leader_hands_over(agents: List[AgentProcess], store_uri: str, name: str) -> None:
    start_all(agents, store_uri, name)
    old = the_leader(agents)
    old_token = int(agents[old].ok("token"))
    killed_at = time.monotonic()
    agents[old].kill()
    rest = [a for i, a in enumerate(agents) if i != old]
    new = rest[the_leader(rest)]
    took = time.monotonic() - killed_at
    new_token = int(new.ok("token"))
    assert new_token > old_token, "fencing tokens must grow across leaders"
    # ttl (2s) + retry, plus slack for a loaded machine
    assert took < 2.0 + 0.2 + 5.0, f"takeover took {took:.1f}s"
    for agent in rest:
        assert agent.ok("leader").split(" ")[1] == str(new_token)


def test_graceful_resign_hands_over_at_once(agents: List[AgentProcess], store_uri: str, name: str) -> None:
    start_all(agents, store_uri, name)
    old = the_leader(agents)
    old_token = int(agents[old].ok("token"))
    resigned_at = time.monotonic()
    agents[old].ok("resign")
    assert agents[old].expect_event("event revoked") == f"event revoked {old_token} resigned"
    # The successor is woken by the store, not by its lease timer: well under the 2s ttl.
    rest = [a for i, a in enumerate(agents) if i != old]
    event = None
    while event is None and time.monotonic() - resigned_at < WAIT:
        for agent in rest:
            try:
                event = agent.expect_event("event elected", timeout=0.05)
                break
            except Exception:
                continue
    assert event is not None, "nobody took over after the resign"
    took = time.monotonic() - resigned_at
    assert int(event.split(" ")[2]) > old_token
    assert took < 1.5, f"handover after resign took {took:.2f}s"
