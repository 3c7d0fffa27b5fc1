#!/usr/bin/env python3
"""`elect observe --metrics` prints valid Prometheus text: parsed by prometheus_client's own
parser, with the families, labels and values the election has (a leader started by `elect run`,
an election name that needs escaping).

    tests/cli/metrics_text.py target/debug/elect DIR   (run with the test venv's python)
"""
import subprocess
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

NAME = 'we"ird\\job'


def observe_metrics(elect, uri):
    out = subprocess.run([elect, "observe", "--metrics", "--uri", uri, "--name", NAME],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout


def samples(text):
    """{(family, sample name, frozen labels): value} of every sample, through the parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(family.name, s.name, frozenset(s.labels.items()))] = s.value
    return found


def main():
    elect, directory = sys.argv[1], sys.argv[2]
    uri = f"file://{directory}?ttl=2s"
    runner = subprocess.Popen([elect, "run", "--uri", uri, "--name", NAME, "--id", "a",
                               "--", "sleep", "60"], stderr=subprocess.PIPE, text=True)
    try:
        # `elect run` says on stderr when it leads; the metrics are read after that.
        for line in runner.stderr:
            if "leading" in line:
                break
        code, text = observe_metrics(elect, uri)
    finally:
        runner.terminate()
        runner.wait(timeout=30)
    assert code == 0, f"elect observe --metrics exited {code}"
    got = samples(text)
    election = ("election", NAME)
    assert got[("elect_leader", "elect_leader", frozenset([election, ("id", "a")]))] == 1, got
    assert got[("elect_leader_term", "elect_leader_term", frozenset([election]))] >= 1, got
    reasons = {dict(k[2]).get("reason") for k in got if k[0] == "elect_revocations"}
    assert reasons == {"resigned", "lease_expired", "session_lost", "store_unreachable",
                       "closed", "preempted"}, reasons
    for family in ("elect_terms_won", "elect_store_errors", "elect_reconnects"):
        assert got[(family, family + "_total", frozenset([election]))] == 0, (family, got)
    assert got[("elect_lease_remaining_seconds", "elect_lease_remaining_seconds",
                frozenset([election]))] == 0, got
    print(f"metrics_text: {len(got)} samples parsed by prometheus_client")


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"metrics_text: {time.monotonic() - start:.1f}s")
