#!/usr/bin/env python3
"""`elect run` and `elect observe` with the connection strings of tests/scenarios/secret_uris.py
(reserved and percent-encoded characters in user and password, every scheme, and each store of
the run with wrong credentials): nothing either writes, on stdout or stderr, may hold any
fragment of the password.

    tests/cli/secrets_kept.py target/debug/elect file:///tmp/dir [store URI...]
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios"))
import secret_uris  # noqa: E402


def run(cmd):
    """Output of `cmd`, stopped after 3 s: `observe` on a store that works runs until told.
    Every log record of elect is written too (ELECT_LOG=trace), so that they are checked."""
    env = dict(os.environ, ELECT_LOG="trace")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = p.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, err = p.communicate()
    return out + err


def main():
    elect, stores = sys.argv[1], sys.argv[2:]
    outputs = []
    for store in stores:
        for uri in secret_uris.uris(store):
            sep = "&" if "?" in uri.rsplit("@", 1)[-1] else "?"
            uri += sep + "ttl=2s&renew=500ms&connect_timeout=2s"
            outputs.append(run([elect, "observe", "--uri", uri, "--name", "job"]))
            outputs.append(run([elect, "run", "--uri", uri, "--name", "job", "--", "true"]))
    leaks = sorted({p for o in outputs for p in secret_uris.PIECES if p in o})
    if leaks:
        sys.exit(f"secrets_kept: password fragments in the output of elect: {leaks}")
    if not any(outputs):
        sys.exit("secrets_kept: elect wrote nothing; the check would be vacuous")
    print(f"secrets_kept: {len(outputs)} runs of elect observe/run, no password fragment shown")


if __name__ == "__main__":
    main()
