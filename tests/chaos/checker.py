"""Checks a chaos history (tests/chaos/run.py) against elect's promises.

A history is a list of records (dicts), every time in CLOCK_MONOTONIC nanoseconds:

- ``{"kind": "sample", "proc": P, "leading": bool, "token": N, "t0": ns, "t1": ns}``: an
  ``is_leader()`` call by process P that started at t0 and returned at t1 (agents report every
  true sample and every change; see tests/scenarios/README.md, ``work``);
- ``{"kind": "elected"|"revoked", "proc": P, "term": N, "t": ns}``: events as they arrived;
- ``{"kind": "accept", "proc": P, "token": N, "result": "ok"|"stale", "t": ns}``: the fenced
  resource's log, in the order it decided;
- ``{"kind": "pause", "proc": P, "t0": ns, "t1": ns}``: P was stopped (SIGSTOP) in between;
- ``{"kind": "fault", "name": str, "t0": ns, "t1": ns, "victim": P|None, "from": "t0"|"t1",
  "bound_ns": ns}``: a fault from t0 to t1; a process other than the victim must lead within
  bound_ns of the chosen end (L1);
- ``{"kind": "quiet", "t0": ns, "t1": ns}``: nothing failed in between (L2).

``check(history)`` returns a list of ``Violation``; the rules are S1-S4, L1 and L2 of issue 14.
"""
from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Violation:
    rule: str
    t: int  # when it happened (ns), to attribute it to a fault
    message: str

    def __str__(self):
        return f"{self.rule}: {self.message}"


def of(history, kind):
    return [r for r in history if r["kind"] == kind]


def check_s1(history):
    """S1: one holder per token: no token is seen leading (or elected) in two processes."""
    holders = defaultdict(dict)  # token -> proc -> first time
    for r in history:
        if r["kind"] == "sample" and r["leading"] and r["token"] > 0:
            holders[r["token"]].setdefault(r["proc"], r["t0"])
        elif r["kind"] == "elected":
            holders[r["term"]].setdefault(r["proc"], r["t"])
    return [Violation("S1", max(procs.values()), f"token {token} held by {sorted(procs)}")
            for token, procs in sorted(holders.items()) if len(procs) > 1]


def grants(history):
    """(first true sample, token, proc) for each term a process acted on, in grant order.
    Samples carry the agents' own clock readings; `elected` events are stamped on arrival,
    too coarsely to order grants that come milliseconds apart."""
    first = {}
    for r in of(history, "sample"):
        if r["leading"] and r["token"] > 0:
            key = (r["proc"], r["token"])
            first[key] = min(r["t0"], first.get(key, r["t0"]))
    return sorted((t, token, proc) for (proc, token), t in first.items())


def check_s2(history):
    """S2: tokens strictly increase in the order the terms were granted."""
    out = []
    seq = grants(history)
    for (_, a, pa), (t, b, pb) in zip(seq, seq[1:]):
        if b <= a:
            out.append(Violation("S2", t, f"token {b} ({pb}) granted after token {a} ({pa})"))
    return out


def check_s3(history):
    """S3: the resource never accepted a token lower than one it had accepted before, and
    never rejected the highest one."""
    out, highest = [], 0
    for r in of(history, "accept"):
        if r["result"] == "ok" and r["token"] < highest:
            out.append(Violation("S3", r["t"], f"resource accepted token {r['token']} from "
                                 f"{r['proc']} after token {highest}"))
        elif r["result"] == "stale" and r["token"] >= highest:
            out.append(Violation("S3", r["t"], f"resource rejected token {r['token']} from "
                                 f"{r['proc']} though the highest was {highest}"))
        if r["result"] == "ok":
            highest = max(highest, r["token"])
    return out


def belief_intervals(history):
    """proc -> [(start, end, token)]: spans between consecutive true samples of one process,
    split by false samples and by the process's pause windows (a stopped process acts on
    nothing). A lone true sample spans its own call."""
    pauses = defaultdict(list)
    for p in of(history, "pause"):
        pauses[p["proc"]].append((p["t0"], p["t1"]))
    samples = defaultdict(list)
    for s in of(history, "sample"):
        # A call the pause interrupted returned its answer from before the pause.
        for a, b in pauses[s["proc"]]:
            if s["t0"] <= b and s["t1"] >= a:
                s = dict(s, t0=min(s["t0"], a), t1=a)
        samples[s["proc"]].append(s)
    out = {}
    for proc, seq in samples.items():
        seq.sort(key=lambda s: s["t0"])
        runs, run = [], []
        for s in seq:
            paused = run and any(a < s["t0"] and b > run[-1]["t1"] for a, b in pauses[proc])
            if not s["leading"] or paused or (run and run[-1]["token"] != s["token"]):
                if run:
                    runs.append(run)
                run = []
            if s["leading"]:
                run.append(s)
        if run:
            runs.append(run)
        out[proc] = [(r[0]["t0"], r[0]["t1"], r[0]["token"]) if len(r) == 1
                     else (r[0]["t1"], r[-1]["t0"], r[0]["token"]) for r in runs]
    return out


def check_s4(history):
    """S4: no two processes have is_leader() true at the same instant (outside pauses)."""
    spans = sorted((a, b, tok, proc) for proc, ivs in belief_intervals(history).items()
                   for a, b, tok in ivs)
    out = []
    for i, (a, b, tok, proc) in enumerate(spans):
        for c, d, tok2, proc2 in spans[i + 1:]:
            if c > b:
                break
            if proc2 != proc:
                out.append(Violation("S4", c, f"{proc} (token {tok}) and {proc2} (token {tok2}) "
                                     f"both lead for {(min(b, d) - c) / 1e6:.1f} ms"))
    return out


def takeover_ns(history, fault):
    """Time from the fault's reference point to the first true sample of a process other
    than the victim that ends after it; None if none came."""
    ref = fault[fault.get("from", "t0")]
    ends = [s["t1"] for s in of(history, "sample")
            if s["leading"] and s["proc"] != fault.get("victim") and s["t1"] >= ref]
    return max(0, min(ends) - ref) if ends else None


def check_l1(history):
    """L1: after each fault, a successor leads within the fault's bound."""
    out = []
    for f in of(history, "fault"):
        took = takeover_ns(history, f)
        if took is None or took > f["bound_ns"]:
            seen = "none" if took is None else f"{took / 1e6:.0f} ms"
            out.append(Violation("L1", f[f.get("from", "t0")], f"{f['name']}: no successor within "
                                 f"{f['bound_ns'] / 1e6:.0f} ms (took {seen})"))
    return out


def check_l2(history):
    """L2: in a quiet window someone leads throughout, with one token and no events."""
    out = []
    for q in of(history, "quiet"):
        a, b = q["t0"], q["t1"]
        events = [r for r in history if r["kind"] in ("elected", "revoked") and a <= r["t"] <= b]
        held = {(s["proc"], s["token"]) for s in of(history, "sample")
                if s["leading"] and a <= s["t0"] <= b}
        lost = [s for s in of(history, "sample") if not s["leading"] and a <= s["t0"] <= b
                and any(s["proc"] == p for p, _ in held)]
        if events or len(held) != 1 or lost:
            what = [f"{r['kind']} {r['proc']} {r['term']}" for r in events]
            what += [f"{p} led with token {t}" for p, t in sorted(held)] or ["nobody led"]
            what += [f"{s['proc']} stopped leading" for s in lost]
            out.append(Violation("L2", a, f"churn in a quiet window of {(b - a) / 1e6:.0f} ms: "
                                 + "; ".join(what)))
    return out


RULES = [check_s1, check_s2, check_s3, check_s4, check_l1, check_l2]


def check(history):
    return [v for rule in RULES for v in rule(history)]
