"""Candidates of a chaos run and the history their agents report (records of checker.py)."""
import signal
from dataclasses import dataclass


@dataclass
class Candidate:
    label: str  # the election id and the resource's writer name
    lang: str
    agent: object  # tests/scenarios/agents.Agent
    proxy: object = None  # its link to a single server, None on a cluster
    paused: bool = False
    killed: bool = False

    def running(self):
        return not (self.paused or self.killed) and self.agent.alive()

    def last_sample(self):
        for _, words in reversed(self.agent.events):
            if words[0] == "sample":
                return sample(self.label, words)
        return None

    def kill(self):
        self.agent.signal(signal.SIGKILL)
        self.agent.proc.wait()
        self.killed = True

    def pause(self):
        self.agent.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.agent.signal(signal.SIGCONT)
        self.paused = False


def sample(proc, words):
    """`sample <true|false> <token> <t0> <t1>` as a record."""
    return {"kind": "sample", "proc": proc, "leading": words[1] == "true", "token": int(words[2]),
            "t0": int(words[3]), "t1": int(words[4])}


def history_of(candidates):
    """Every candidate's samples, writes and elected/revoked events (stamped on arrival)."""
    out = []
    for c in candidates:
        for arrived, words in list(c.agent.events):
            if words[0] == "sample":
                out.append(sample(c.label, words))
            elif words[0] == "write":
                out.append({"kind": "write", "proc": c.label, "token": int(words[1]),
                            "result": words[2], "t0": int(words[3]), "t1": int(words[4])})
            elif words[0] in ("elected", "revoked"):
                out.append({"kind": words[0], "proc": c.label, "term": int(words[1]),
                            "t": arrived, **({"reason": words[2]} if len(words) > 2 else {})})
            elif words[0] == "error":
                out.append({"kind": "error", "proc": c.label, "t": arrived,
                            "message": " ".join(words[1:])})
    return out


def excerpt(history, t, before_ms=1500, after_ms=500, limit=40):
    """The records around time t, one short line each, times in ms relative to t. Runs of true
    samples of one process with one token are folded into one line; accepted writes are left
    out (every true sample has one)."""
    def at(r):
        return r.get("t", r.get("t0", 0))
    def shown(r):
        if r["kind"] in ("fault", "pause", "quiet"):
            return r["t0"] <= t <= r["t1"] or t - before_ms * 1e6 <= r["t0"] <= t
        routine = r["kind"] in ("write", "accept") and r["result"] == "ok"
        return not routine and t - before_ms * 1e6 <= at(r) <= t + after_ms * 1e6
    near = sorted(filter(shown, history), key=at)
    lines, run = [], None
    for r in near:
        rel = f"{(at(r) - t) / 1e6:+9.1f} ms"
        if r["kind"] == "sample" and r["leading"]:
            key = (r["proc"], r["token"])
            if run and run[0] == key:
                run[2] = rel
                continue
            run = [key, rel, rel]
            lines.append(run)
            continue
        run = None
        rest = {k: v for k, v in r.items() if k not in ("kind", "t", "t0", "t1")}
        lines.append(f"{rel}  {r['kind']} {' '.join(f'{k}={v}' for k, v in rest.items())}")
    text = [f"{x[1]} .. {x[2]}  {x[0][0]} leads with token {x[0][1]}" if isinstance(x, list)
            else x for x in lines]
    if len(text) > limit:
        text = text[:limit // 2] + ["    ..."] + text[-limit // 2:]
    return "\n".join("      " + x for x in text)
