"""The group steps of the shared scenarios (README.md, "Groups"): who leads each shard, from the
agents' `event shard <i> ...` lines, and the safety check over their samplers' beliefs.

Two views of the same history, as in testkit/src/group.rs:
- **terms**, from `elected`/`revoked` events (a killed agent's terms end at its kill): who leads
  each shard now, to wait for a spread such as 4/4/4;
- **beliefs**, from the samplers' `began <token> <t1_ns>` / `ended <token> <t0_ns>`: the
  intervals in which a process certainly believed it led (end of its first true `is_leader`
  sample to the start of its last), on `CLOCK_MONOTONIC`, which every agent reads. Two beliefs
  of one shard that intersect are two leaders at once; event delivery delays never enter it.
"""
import time

from agents import Failure


def shard_events(agent):
    """(shard, words) for each `event shard <i> <words...>` the agent wrote."""
    return [(int(w[1]), w[2:]) for _, w in list(agent.events) if w[0] == "shard" and len(w) > 2]


def open_terms(agents, shards):
    """Per shard, the agents whose term is open (elected and neither revoked nor killed)."""
    holders = [set() for _ in range(shards)]
    for a in agents:
        open_ = {}
        for shard, w in shard_events(a):
            if w[0] == "elected":
                open_[shard] = w[1]
            elif w[0] == "revoked" and open_.get(shard) == w[1]:
                del open_[shard]
        if a.alive():
            for shard in open_:
                holders[shard].add(a)
    return holders


def loads(members, everyone, shards):
    """Shards each of `members` leads, or None while some shard has no single leader among them."""
    counts = {a: 0 for a in members}
    for holders in open_terms(everyone, shards):
        if len(holders) != 1:
            return None
        (holder,) = holders
        if holder not in counts:
            return None
        counts[holder] += 1
    return [counts[a] for a in members]


def await_spread(members, everyone, shards, each, within_ms):
    """Waits until every member leads `each` shards (by events), then checks that each one's
    `leading` reply names as many."""
    deadline = time.monotonic() + within_ms / 1000
    while loads(members, everyone, shards) != [each] * len(members):
        if time.monotonic() > deadline:
            now = loads(members, everyone, shards)
            who = [sorted(f"a{h.index}" for h in hs) for hs in open_terms(everyone, shards)]
            raise Failure(f"no {each} shards each for agents {[a.index for a in members]} "
                          f"within {within_ms} ms: loads {now}, leaders per shard {who}")
        time.sleep(0.005)
    for a in members:
        reply = a.request("leading")
        led = [s for s in reply[3:].split(",") if s] if reply.startswith("ok ") else None
        if led is None or len(led) != each:
            raise Failure(f"agent {a.index}: `leading` gave `{reply}`, expected {each} shards")


def beliefs(agent, shards):
    """Per shard, [token, from_ns, until_ns] intervals of the agent's sampler. A killed agent's
    open beliefs end when the SIGKILL was sent (its last sample was at most a millisecond
    before, in a steady state); any other agent must have ended them."""
    held = [[] for _ in range(shards)]
    for shard, w in shard_events(agent):
        if w[0] == "began":
            held[shard].append([int(w[1]), int(w[2]), None])
        elif w[0] == "ended":
            open_ = [b for b in held[shard] if b[0] == int(w[1]) and b[2] is None]
            if not open_:
                raise Failure(f"agent {agent.index}: shard {shard} ended {w[1]} without began")
            open_[-1][2] = int(w[2])
    for shard, bs in enumerate(held):
        for b in bs:
            if b[2] is None:
                if agent.dead_at is None:
                    raise Failure(f"agent {agent.index}: believed it led shard {shard} "
                                  f"(token {b[0]}) when it stopped, and was not killed")
                b[2] = agent.dead_at
    return held


def check_safe(everyone, shards):
    """No two beliefs of one shard intersect; tokens grow in the order beliefs began (equal only
    within one agent: a sample that was late on its lease and then true again)."""
    per_shard = [[] for _ in range(shards)]
    for a in everyone:
        if a.alive() or not a.stdout_done.wait(timeout=10):
            raise Failure(f"agent {a.index}: still running; stop agents before the check")
        for shard, bs in enumerate(beliefs(a, shards)):
            per_shard[shard] += [(b[1], b[2], b[0], a.index) for b in bs]
    for shard, bs in enumerate(per_shard):
        bs.sort()
        for (f1, u1, t1, a1), (f2, u2, t2, a2) in zip(bs, bs[1:]):
            if u1 >= f2:
                raise Failure(f"shard {shard}: two leaders at once: agent {a1} (token {t1}) "
                              f"until {u1}, agent {a2} (token {t2}) from {f2}")
            if t2 < t1 or (t2 == t1 and a2 != a1):
                raise Failure(f"shard {shard}: token {t2} of agent {a2} after {t1} of agent {a1}")
    if not any(per_shard):
        raise Failure("no agent ever believed it led a shard")
