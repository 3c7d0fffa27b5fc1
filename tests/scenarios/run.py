#!/usr/bin/env python3
"""Runs the shared scenarios (cases/*.json) against one agent command and one store URI.

See README.md for the agent protocol and the step vocabulary. Standard library only, so that
every language's test suite can call it without installing anything.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import group  # beside this file
import secret_uris
from agents import Agent, Failure, parse_ms, redact

HERE = os.path.dirname(os.path.abspath(__file__))


class Case:
    def __init__(self, spec, agent_cmd, uri):
        self.spec = spec
        self.options = spec.get("options", "")
        opts = dict(kv.split("=", 1) for kv in self.options.split("&") if kv)
        self.ttl = parse_ms(opts.get("ttl", "10s"))
        self.retry = parse_ms(opts.get("retry", "1s"))
        self.uri = uri
        self.name = f"{spec['name']}-{uuid.uuid4().hex[:8]}"
        self.agent_cmd = agent_cmd
        self.agents = [Agent(i, agent_cmd) for i in range(spec.get("agents", 1))]
        self.retired = []  # agents replaced by `respawn`, kept for the group checks
        self.shards = spec.get("shards", 0)
        self.saved = {}
        self.marks = {}
        self.log = []
        self.killed_at = None

    def ms(self, expr):
        total = 0
        for part in str(expr).split("+"):
            part = part.strip()
            total += {"ttl": self.ttl, "retry": self.retry}.get(part) or int(part)
        return total

    def targets(self, to):
        if to == "all":
            return [a for a in self.agents if a.alive()]
        if isinstance(to, int):
            return [self.agents[to]]
        if isinstance(to, list):
            return [t for x in to for t in self.targets(x)]
        if to.startswith("others:"):
            skip = self.saved[to.split(":", 1)[1]][0]
            return [a for a in self.agents if a is not skip and a.alive()]
        return [self.saved[to][0]]

    def uri_for(self, agent, extra=""):
        sep = "&" if "?" in self.uri else "?"
        opts = "&".join(x for x in [self.options, f"id=a{agent.index}", extra] if x)
        return f"{self.uri}{sep}{opts}"

    def run(self):
        try:
            for step in self.spec["steps"]:
                self.log.append(json.dumps(step))
                self.step(step)
        finally:
            for a in self.agents:
                a.stop()

    def step(self, step):
        if "open" in step:
            for a in self.targets(step["open"]):
                uri = self.uri_for(a, step.get("with", ""))
                expect(a, a.request(f"open {uri} {self.name}"), "ok")
        elif "send" in step:
            for a in self.targets(step.get("to", "all")):
                expect(a, a.request(step["send"]), step.get("expect", "ok"))
        elif "await_leader" in step:
            self.await_leader(step)
        elif "kill" in step:
            for a in self.targets(step["kill"]):
                self.killed_at = a.dead_at = time.monotonic_ns()
                a.signal(signal.SIGKILL)
                a.proc.wait()
        elif "pause" in step:
            for a in self.targets(step["pause"]):
                a.signal(signal.SIGSTOP)
        elif "resume" in step:
            for a in self.targets(step["resume"]):
                a.signal(signal.SIGCONT)
        elif "sleep" in step:
            time.sleep(self.ms(step["sleep"]) / 1000)
        elif "expect_tokens_increase" in step:
            terms = [self.saved[n][1] for n in step["expect_tokens_increase"]]
            if any(b <= a for a, b in zip(terms, terms[1:])):
                raise Failure(f"fencing tokens do not increase: {terms}")
        elif "expect_events_ordered" in step:
            for a in self.targets(step["expect_events_ordered"]):
                check_order(a)
        elif "expect_gap" in step:
            self.expect_gap(step)
        elif "expect_error" in step:
            for a in self.targets(step.get("to", 0)):
                args = step.get("args", "").replace("{uri}", self.uri_for(a)).replace("{name}", self.name)
                reply = a.request(f"{step['expect_error']} {args}".strip())
                want = f"err {step['code']} "
                if not reply.startswith(want):
                    raise Failure(f"agent {a.index}: expected `{want}...`, got `{reply}`")
                if step.get("mentions") and step["mentions"] not in reply:
                    raise Failure(f"agent {a.index}: error does not mention `{step['mentions']}`: {reply}")
        elif "secrets_kept" in step:
            for a in self.targets(step["secrets_kept"]):
                secret_uris.check(a, self.uri, self.name, Failure)
        elif "await_event" in step:
            pattern = self.fill(step["matches"])
            deadline = time.monotonic() + self.ms(step.get("within", "5000")) / 1000
            for a in self.targets(step["await_event"]):
                while not any(re.fullmatch(pattern, " ".join(w)) for _, w in a.events):
                    if time.monotonic() > deadline:
                        raise Failure(f"agent {a.index}: no event matching /{pattern}/ "
                                      f"within {step.get('within')}")
                    time.sleep(0.005)
        elif "expect_no_event" in step:
            pattern = self.fill(step["matches"])
            for a in self.targets(step["expect_no_event"]):
                bad = [" ".join(w) for _, w in a.events if re.fullmatch(pattern, " ".join(w))]
                if bad:
                    raise Failure(f"agent {a.index}: unexpected event `{bad[0]}`")
        elif "respawn" in step:
            for a in self.targets(step["respawn"]):
                try:
                    a.proc.wait(timeout=10)  # a `quit` is answered just before the exit
                except subprocess.TimeoutExpired:
                    raise Failure(f"agent {a.index}: respawn of a running agent")
                self.retired.append(a)
                self.agents[a.index] = Agent(a.index, self.agent_cmd)
        elif "group" in step:
            # Sent to all before any reply is read, so that the instances join together.
            cap = step.get("cap", "-")
            sent = [(a, f"group {self.uri_for(a)} {self.name} {self.shards} {cap}")
                    for a in self.targets(step["group"])]
            for a, line in sent:
                a.send(line)
            for a, line in sent:
                expect(a, a.reply(line), "ok")
        elif "await_spread" in step:
            group.await_spread(self.targets(step["await_spread"]), self.retired + self.agents,
                               self.shards, step["each"], self.ms(step.get("within", "ttl+retry+5000")))
        elif "expect_group_safe" in step:
            for a in self.agents:
                a.stop()
            group.check_safe(self.retired + self.agents, self.shards)
        elif "expect_reply" in step:
            for a in self.targets(step.get("to", 0)):
                reply = a.request(self.fill(step["expect_reply"]))
                if not re.fullmatch(self.fill(step["matches"]), reply):
                    raise Failure(f"agent {a.index}: `{step['expect_reply']}` gave `{reply}`, "
                                  f"expected /{step['matches']}/")
        else:
            raise Failure(f"unknown step {step}")

    def fill(self, text):
        """Replaces `{id:<saved>}` and `{term:<saved>}` by a saved agent's id and term."""
        def sub(m):
            agent, term = self.saved[m.group(2)]
            return f"a{agent.index}" if m.group(1) == "id" else str(term)
        return re.sub(r"\{(id|term):([a-z_]+)\}", sub, text)

    def elected_at(self, saved):
        agent, term = self.saved[saved]
        return next(t for t, w in agent.events if w[:2] == ["elected", str(term)])

    def expect_gap(self, step):
        """`{"expect_gap": "second", "after": "revoked:first" | "kill", "below": ms,
        "at_least": ms}`: the time from the first's `revoked` event (or the last kill) to the
        saved agent's `elected` event, as this orchestrator received them."""
        elected = self.elected_at(step["expect_gap"])
        after = step.get("after", "kill")
        if after == "kill":
            since = self.killed_at
        else:
            agent, term = self.saved[after.split(":", 1)[1]]
            since = next(t for t, w in agent.events if w[:2] == ["revoked", str(term)])
        gap = (elected - since) / 1e6
        if "below" in step and gap >= self.ms(step["below"]):
            raise Failure(f"elected {gap:.0f} ms after {after}, not below {step['below']}")
        if "at_least" in step and gap < self.ms(step["at_least"]):
            raise Failure(f"elected {gap:.0f} ms after {after}, before {step['at_least']}")

    def await_leader(self, step):
        """Waits for an `elected` event that arrived after the previous await_leader."""
        among = self.targets(step["await_leader"])
        deadline = time.monotonic() + self.ms(step.get("within", "ttl+retry+5000")) / 1000
        while True:
            winners = [(a, int(words[1])) for a in among
                       for _, words in a.events[self.marks.get(id(a), 0):] if words[0] == "elected"]
            if winners:
                break
            if time.monotonic() > deadline:
                raise Failure(f"no leader elected among agents {[a.index for a in among]} "
                              f"within {step.get('within')}")
            time.sleep(0.005)
        leaders = [a for a in among if a.request("is_leader") == "ok true"]
        if len(leaders) != 1:
            raise Failure(f"expected exactly one leader, agents {[a.index for a in leaders]} claim it")
        agent, term = winners[-1]
        if agent is not leaders[0]:
            raise Failure(f"agent {agent.index} was elected but agent {leaders[0].index} leads")
        token = agent.request("token")
        if token != f"ok {term}":
            raise Failure(f"agent {agent.index}: token `{token}` differs from elected term {term}")
        self.marks = {id(a): len(a.events) for a in self.agents}
        if "save" in step:
            self.saved[step["save"]] = (agent, term)


def expect(agent, reply, want):
    if not (reply == want or (want != "ok" and reply.startswith(want))):
        raise Failure(f"agent {agent.index}: expected `{want}`, got `{reply}`")


def check_order(agent):
    open_term = None
    for _, words in agent.events:
        if words[0] == "elected":
            if open_term is not None:
                raise Failure(f"agent {agent.index}: elected {words[1]} while term {open_term} is open")
            open_term = int(words[1])
        elif words[0] == "revoked":
            if open_term != int(words[1]):
                raise Failure(f"agent {agent.index}: revoked {words[1]} but the open term is {open_term}")
            open_term = None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--agent", required=True, help="command that starts one agent")
    p.add_argument("--uri", required=True, help="store connection string, without election options")
    p.add_argument("--case", action="append", help="run only these cases (file names without .json)")
    p.add_argument(
        "--skip-store-only",
        action="store_true",
        help="a binding's run: skip the cases marked store_only (run once, from the Rust agent), "
        "and run those with bindings_on only on the stores it names",
    )
    args = p.parse_args()
    cases_dir = os.path.join(HERE, "cases")
    names = sorted(f[:-5] for f in os.listdir(cases_dir) if f.endswith(".json"))
    if args.case:
        names = [n for n in names if n in args.case]
    failed = []
    for name in names:
        with open(os.path.join(cases_dir, name + ".json")) as f:
            spec = json.load(f)
        spec.setdefault("name", name)
        scheme = args.uri.split("://", 1)[0]
        if args.skip_store_only and spec.get("store_only"):
            print(f"skip  {name} (store_only: run from the Rust agent)", flush=True)
            continue
        if args.skip_store_only and scheme not in spec.get("bindings_on", [scheme]):
            stores = ", ".join(f"{s}://" for s in spec["bindings_on"])
            print(f"skip  {name} (from a binding's agent only on {stores})", flush=True)
            continue
        if "stores" in spec and scheme not in spec["stores"]:
            print(f"skip  {name} (not on {scheme}://)", flush=True)
            continue
        start = time.monotonic()
        case = Case(spec, args.agent, args.uri)
        try:
            case.run()
            print(f"ok    {name} ({time.monotonic() - start:.2f}s)", flush=True)
        except Failure as e:
            failed.append(name)
            print(f"FAIL  {name}: {e}\n      after step: {case.log[-1] if case.log else '-'}", flush=True)
    print(f"{len(names) - len(failed)}/{len(names)} scenarios passed on {redact(args.uri)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
