#!/usr/bin/env python3
"""The chaos suite: candidates in three languages on each server store, faults injected,
and the history checked (checker.py) against elect's promises. Standard library only.

    python3 tests/chaos/run.py --agent rust="target/debug/elect agent" \\
        --agent python="python3 bindings-python/tests/agent.py" --agent java="java ... ScenarioAgent"
    python3 tests/chaos/run.py ... --report docs/chaos.md     # also rewrites the results table

Every candidate runs the agents' ``work`` loop (tests/scenarios/README.md): it samples
``is_leader()`` and, while leading, writes its fencing token to a resource (resource.py) that
keeps the highest token. Each candidate reaches a single server through a proxy of its own
(proxy.py), so that one candidate's link can stall. ``ELECT_CHAOS_SOAK=<minutes>`` repeats
faults in random order until that many minutes have passed, instead of the CI list.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scenarios"))

from agents import Agent, Failure  # noqa: E402
from checker import Violation, check, takeover_ns  # noqa: E402
from faults import FAULTS  # noqa: E402
from history import Candidate, history_of, excerpt  # noqa: E402
from netns import Netns  # noqa: E402
from proxy import Proxy  # noqa: E402
from report import write_report  # noqa: E402
from resource import Resource  # noqa: E402
from stores import Store  # noqa: E402

TTL_MS, RETRY_MS, WORK_MS = 2000, 200, 20
LANGS = ["rust", "python", "java", "rust"]
STORES = ["etcd", "zk", "redis", "postgres", "mysql"]


class Run:
    """One store (or cluster), its candidates, the resource and the faults injected so far."""

    def __init__(self, kind, setup, agents, run_dir):
        self.kind, self.setup, self.agents = kind, setup, agents
        self.ttl, self.retry = TTL_MS, RETRY_MS
        self.name = f"chaos-{uuid.uuid4().hex[:8]}"
        self.records = []  # pause, fault and quiet records (checker.py)
        self.phases = [(time.monotonic_ns(), "baseline")]
        self.candidates = []
        self.run_dir = run_dir
        self.net = self.store = self.resource = self.inside = None

    def start(self):
        """Starts the servers, the resource and the candidates (close() undoes any part)."""
        self.net = Netns() if self.setup == "partition" else None
        self.store = Store(self.kind, self.run_dir, self.setup, self.net)
        self.resource = Resource(self.net.host_addr if self.net else "127.0.0.1")
        if self.net:
            # Candidate A and member 3 share the namespace; A leads first.
            self.inside = self.spawn(LANGS[0], inside=True)
            self.await_leader()
        for lang in LANGS[1:] if self.net else LANGS:
            self.spawn(lang)

    def spawn(self, lang, inside=False):
        label = f"{lang[0]}{len(self.candidates)}"
        proxy, uri, command = None, self.store.uri, self.agents[lang]
        if self.setup == "single":
            host, port = self.store.address
            proxy = Proxy(host, port)
            uri = uri.replace(f"{host}:{port}", f"{host}:{proxy.port}")
        elif self.net:
            scheme, hosts = uri.split("://", 1)
            side = self.net.ns_addr if inside else self.net.host_addr
            uri = f"{scheme}://" + ",".join(h for h in hosts.split(",") if h.startswith(side + ":"))
            command = (self.net.prefix() if inside else "") + command
        sep = "&" if "?" in uri else "?"
        uri += f"{sep}ttl={self.ttl}ms&retry={self.retry}ms&id={label}"
        c = Candidate(label, lang, Agent(len(self.candidates), command), proxy)
        self.candidates.append(c)
        for req in (f"open {uri} {self.name}", f"work {self.resource.address} {WORK_MS} {label}",
                    "start"):
            reply = c.agent.request(req)
            if reply != "ok":
                raise Failure(f"{label} ({lang}): `{req.split()[0]}` answered `{reply}`")
        return c

    def make_leader(self, candidate):
        """Has leaders resign (they campaign again) until `candidate` leads."""
        for _ in range(len(self.candidates) * 2):
            c = self.await_leader()
            if c is candidate:
                return
            reply = c.agent.request("resign")
            if reply != "ok":
                raise Failure(f"{c.label}: `resign` answered `{reply}`")
            self.await_leader(exclude=c)
        raise Failure(f"{candidate.label} did not come to lead")

    def now(self):
        return time.monotonic_ns()

    def leader(self):
        """The live, running candidate whose latest sample (within 10 intervals) is true."""
        now = self.now()
        live = [(s["token"], c) for c in self.candidates if c.running()
                for s in [c.last_sample()] if s and s["leading"] and now - s["t1"] < 10 * WORK_MS * 1e6]
        return max(live, key=lambda x: x[0])[1] if live else None

    def await_leader(self, exclude=None, within_ms=None):
        deadline = time.monotonic() + (within_ms or self.ttl * 3 + 15000) / 1000
        while time.monotonic() < deadline:
            c = self.leader()
            if c is not None and c is not exclude:
                return c
            time.sleep(0.01)
        raise Failure(f"no leader{' other than ' + exclude.label if exclude else ''} "
                      f"within {within_ms or self.ttl * 3 + 15000} ms")

    def fault(self, name, t0, t1, victim, ref, bound_ms):
        self.records.append({"kind": "fault", "name": name, "t0": t0, "t1": t1,
                             "victim": victim.label if victim else None, "from": ref,
                             "bound_ns": int(bound_ms * 1e6)})

    def settle_and_quiet(self):
        """Waits until a candidate leads and no Elected/Revoked has come for a ttl since the
        fault ended (its after-effects are over: a resumed leader's revocation, a restart
        guard), then watches a window of 1.5 ttl (several renewals) in which nothing may
        change (L2)."""
        deadline, since = time.monotonic() + 30, self.now()
        while True:
            self.await_leader()
            last = max((at for c in self.candidates for at, words in list(c.agent.events)
                        if words[0] in ("elected", "revoked")), default=since)
            if self.now() - max(last, since) >= self.ttl * 1e6 and self.leader():
                break
            if time.monotonic() > deadline:
                raise Failure("leadership did not settle within 30 s after the fault")
            time.sleep(0.05)
        t0 = self.now()
        time.sleep(1.5 * self.ttl / 1000)
        self.records.append({"kind": "quiet", "t0": t0, "t1": self.now()})

    def inject(self, fault):
        self.phases.append((self.now(), fault.__name__))
        fault(self)
        self.settle_and_quiet()

    def history(self):
        log = self.resource.log if self.resource else []
        return history_of(self.candidates) + log + self.records

    def exited(self):
        """Candidates whose agent exited though nobody killed it (a crash of the binding)."""
        return [f"{c.label} ({c.lang}) exited by itself with status {c.agent.proc.returncode}"
                for c in self.candidates if not c.killed and not c.agent.alive()]

    def close(self):
        for c in self.candidates:
            c.agent.stop()
            if c.proxy:
                c.proxy.close()
        for part, stop in ((self.resource, "close"), (self.store, "stop"), (self.net, "close")):
            if part:
                getattr(part, stop)()


def run_store(kind, setup, agents, out_dir, soak_s, results, run_dir):
    label = kind + ("" if setup == "single" else "-" + setup)
    faults = FAULTS[setup]
    started = time.monotonic()
    run = Run(kind, setup, agents, run_dir)
    error = None
    try:
        run.start()
        run.await_leader()
        run.settle_and_quiet()
        plan = list(faults)
        while plan:
            run.inject(plan.pop(0))
            if not plan and time.monotonic() - started < soak_s:
                plan = random.sample(faults, len(faults))
    except (Failure, OSError, subprocess.CalledProcessError) as e:
        said = getattr(e, "stderr", None)
        error = f"the run stopped: {e}" + (f" ({said.strip()})" if said else "")
    finally:
        error = "; ".join(([error] if error else []) + run.exited()) or None
        run.close()
    history = run.history()
    with open(os.path.join(out_dir, f"{label}.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in sorted(history, key=when))
    violations = check(history)
    if error:
        violations.append(Violation("run", run.now(), error))
    tally(results, label.replace("-", " "), run, history, violations)
    for v in violations:
        print(f"FAIL  {label}: {phase_of(run.phases, v.t)}: {v}", flush=True)
        print(excerpt(history, v.t), flush=True)
    took = time.monotonic() - started
    print(f"{'ok   ' if not violations else 'FAIL '} {label}: {len(run.phases) - 1} faults, "
          f"{len(violations)} violations ({took:.0f}s)", flush=True)
    return not violations


def when(r):
    return r.get("t", r.get("t0", 0))


def phase_of(phases, t):
    return [name for start, name in phases if start <= t][-1] if t >= phases[0][0] else "baseline"


def tally(results, store, run, history, violations):
    """Adds this run's figures to results[(fault, store)]: runs, violations, worst takeover."""
    faults = {f["t0"]: f for f in history if f["kind"] == "fault"}
    for start, name in run.phases:
        row = results.setdefault(f"{name}|{store}", {"runs": 0, "violations": 0, "worst_ms": None})
        row["runs"] += 1
        for f in faults.values():
            if phase_of(run.phases, f["t0"]) == name and f["t0"] >= start:
                took = takeover_ns(history, f)
                if took is not None:
                    row["worst_ms"] = max(row["worst_ms"] or 0, round(took / 1e6))
    for v in violations:
        name = "run" if v.rule == "run" else phase_of(run.phases, v.t)
        results.setdefault(f"{name}|{store}", {"runs": 1, "violations": 0, "worst_ms": None})
        results[f"{name}|{store}"]["violations"] += 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", action="append", required=True, metavar="LANG=COMMAND",
                   help="the command that starts one agent of LANG (rust, python, java)")
    p.add_argument("--store", action="append", choices=STORES, help="only these stores")
    p.add_argument("--setup", action="append", choices=["single", "cluster", "partition"],
                   help="only these setups: a single server per store, three-member clusters, "
                        "the ZooKeeper ensemble split by a network namespace")
    p.add_argument("--report", metavar="FILE", help="rewrite the results table in FILE")
    p.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "elect-chaos"),
                   help="directory for the histories (one JSON line per record)")
    args = p.parse_args()
    agents = dict(a.split("=", 1) for a in args.agent)
    missing = sorted(set(LANGS) - set(agents))
    if missing:
        p.error(f"no --agent for {', '.join(missing)}")
    soak_s = float(os.environ.get("ELECT_CHAOS_SOAK", "0")) * 60
    os.makedirs(args.out, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix="elect-chaos-servers.")
    stores = args.store or STORES
    plan = [(k, "single") for k in stores] + [(k, "cluster") for k in stores if k in ("etcd", "zk")]
    plan += [("zk", "partition")] if "zk" in stores else []
    plan = [(k, setup) for k, setup in plan if setup in (args.setup or [setup])]
    results, ok = {}, True
    try:
        for kind, setup in plan:
            ok &= run_store(kind, setup, agents, args.out, soak_s / len(plan), results, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    print(f"histories in {args.out}")
    if args.report:
        write_report(args.report, results, soak_s / 60, TTL_MS)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
