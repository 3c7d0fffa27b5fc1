"""The faults of the chaos suite. Each takes a run (run.py), injects one fault, waits for the
store and the candidates to recover, and records it (``run.fault``) with the bound L1 allows:
ttl + retry + what the store itself needs to notice or recover, plus SLACK_MS for a loaded
two-core machine.

``time.sleep`` appears only where time itself is the fault (a pause or a stall must outlast
the ttl; a snapshot must age past the lease).
"""
import time

SLACK_MS = 1500
# What a store adds to ttl before a crashed client's lease is gone: etcd grants at least a 2 s
# lease and expires leases from a 500 ms loop (docs/stores/etcd.md); ZooKeeper expires a
# session on a tick boundary after the negotiated timeout.
EXPIRY_MS = {"etcd": 1000, "zk": 500, "redis": 0, "postgres": 0, "mysql": 0}
# A restarted server: clients reconnect with backoff and re-read their state.
RECONNECT_MS = 3000
# A killed Raft/Zab leader: etcd's election timeout is 1 s, ZooKeeper's ensemble re-elects
# within a few ticks (scripts/servers/*); the candidates' sessions and leases ride it out.
CLUSTER_FAILOVER_MS = {"etcd": 2000, "zk": 3000}


def bound(run, extra_ms=0):
    return run.ttl + run.retry + EXPIRY_MS[run.store.kind] + SLACK_MS + extra_ms


def sigkill(run):
    """SIGKILL of the leader; a fresh candidate of the same language replaces it."""
    victim = run.await_leader()
    t0 = run.now()
    victim.kill()
    run.fault("sigkill", t0, run.now(), victim, "t0", bound(run))
    run.spawn(victim.lang)
    run.await_leader(exclude=victim)


def sigstop(run):
    """SIGSTOP of the leader for ttl + 1 s, then SIGCONT: it must not believe it leads after
    it resumes (the pause window itself is excused, S4)."""
    victim = run.await_leader()
    t0 = run.now()
    victim.pause()
    run.await_leader(exclude=victim)
    time.sleep(max(0, t0 / 1e9 + (run.ttl + 1000) / 1000 - time.monotonic()))
    victim.resume()
    t1 = run.now()
    run.records.append({"kind": "pause", "proc": victim.label, "t0": t0, "t1": t1})
    run.fault("sigstop", t0, t1, victim, "t0", bound(run))


def store_restart(run, cut_leader=False):
    """The store crashes (SIGKILL; PostgreSQL's immediate stop) and restarts from what it
    persisted. Redis runs with Debian's RDB save points: its snapshot is taken 1.5 ttl before
    the crash, so it holds an older lease than the one in memory."""
    run.store.snapshot()
    time.sleep(1.5 * run.ttl / 1000)
    victim = run.await_leader() if cut_leader else None
    t0 = run.now()
    if victim:
        victim.proxy.stall()
    run.store.crash_restart()
    t1 = run.now()
    if victim:
        run.await_leader(exclude=victim)
        time.sleep(max(0, t0 / 1e9 + (run.ttl + 1000) / 1000 - time.monotonic()))
        victim.proxy.resume()
    name = "store_restart_leader_cut" if cut_leader else "store_restart"
    run.fault(name, t0, t1, victim, "t1", bound(run, RECONNECT_MS))
    run.await_leader()


def store_restart_leader_cut(run):
    """A store restart that the leader does not see: its link stalls from just before the
    crash until ttl + 1 s later, so it learns of the restart only from its own lease deadline.
    The restarted store must not grant the lease before that deadline."""
    store_restart(run, cut_leader=True)


def link_stall(run):
    """The leader's link to the store stalls (the proxy holds every byte both ways) for
    ttl + 1 s: another candidate takes over, and the old leader must step down in time. Then
    the held bytes flow, late renewals included."""
    victim = run.await_leader()
    t0 = run.now()
    victim.proxy.stall()
    run.await_leader(exclude=victim)
    time.sleep(max(0, t0 / 1e9 + (run.ttl + 1000) / 1000 - time.monotonic()))
    victim.proxy.resume()
    run.fault("link_stall", t0, run.now(), victim, "t0", bound(run))


def cluster_leader_kill(run):
    """SIGKILL of the store's own Raft/Zab leader in a three-member cluster, restarted after
    the cluster elected another; a candidate must lead throughout or take over in time."""
    t0 = run.now()
    member = run.store.kill_leader()
    run.fault("cluster_leader_kill", t0, run.now(), None, "t0",
              bound(run, CLUSTER_FAILOVER_MS[run.store.kind]))
    run.await_leader()
    run.store.restart_member(member)


def partition(run, direction="both", name="partition"):
    """Candidate A and the ensemble member it talks to are cut off from the rest (members 1
    and 2, the other candidates) for ttl + syncLimit x tickTime + 1 s: the others elect a
    successor, and A must stop believing before it is elected (the member may keep answering
    A's reads until it notices it lost the quorum)."""
    victim = run.inside
    run.make_leader(victim)
    t0 = run.now()
    run.net.cut(direction)
    run.await_leader(exclude=victim)
    time.sleep(max(0, t0 / 1e9 + (run.ttl + ZK_SYNC_MS + 1000) / 1000 - time.monotonic()))
    run.net.heal()
    run.fault(name, t0, run.now(), victim, "t0", bound(run, CLUSTER_FAILOVER_MS["zk"]))


def partition_one_way(run):
    """As `partition`, but only packets into the namespace are dropped; A's still leave."""
    partition(run, "in", "partition_one_way")


# scripts/servers/zk: syncLimit 10 x tickTime 200 ms.
ZK_SYNC_MS = 2000

FAULTS = {
    "single": [sigkill, sigstop, store_restart, store_restart_leader_cut, link_stall],
    "cluster": [cluster_leader_kill, sigkill],
    "partition": [partition, partition_one_way],
}
