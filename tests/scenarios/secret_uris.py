#!/usr/bin/env python3
"""Connection strings whose user and password hold reserved characters, and the check that
nothing an agent writes (reply, event, stderr log line) shows any fragment of the password.

The password is made of pieces that occur nowhere else, joined by every character that ends a
part of a URI (`/ ? # @ :`) and followed by percent-encoded ones, so a leak of any fragment of
it, raw or decoded, contains a whole piece.
"""
import re
import time
import uuid

PIECES = ["Pq7a", "Rv2b", "Tw9c", "Xy4d", "Zk3e", "Mn8f"]
PASSWORD = "{}/{}?{}#{}@{}:{}%2F%40%3A".format(*PIECES)
# Reserved characters in the user too; its `:` must be encoded, since the first `:` ends the user.
USER = "us/e?r#x@y%3Az"
SCHEMES = ["file", "etcd", "zk", "redis", "rediss", "postgres", "mysql"]
OPTIONS = "ttl=2s&renew=500ms&retry=500ms&connect_timeout=2s&id=a0"


def with_userinfo(uri, userinfo):
    """`uri` with its user info (if any) replaced by `userinfo`."""
    scheme, rest = uri.split("://", 1)
    authority_end = re.search(r"[/?]|$", rest).start()
    authority = rest[:authority_end].rsplit("@", 1)[-1]
    return f"{scheme}://{userinfo}@{authority}{rest[authority_end:]}"


def private_chroot(uri):
    """`uri` with a chroot of its own appended to its path (the part before any `?`)."""
    base, query = (uri.split("?", 1) + [""])[:2]
    base = f"{base.rstrip('/')}/elect-secrets-{uuid.uuid4().hex[:8]}"
    return f"{base}?{query}" if query else base


def uris(store_uri):
    """The store under test with wrong credentials of that shape (file:// refuses user info); on a
    file:// run, also every scheme against a closed port, with a malformed port, and with the
    password where a scheme's `//` was forgotten, and with a password whose tail after an `@` is
    taken for the host."""
    if store_uri.startswith("zk:"):
        # ZooKeeper takes any digest identity, so these runs succeed and create their nodes with
        # that identity's ACL: under the run's shared root they would lock every later test out.
        store_uri = private_chroot(store_uri)
    out = [with_userinfo(store_uri, f"{USER}:{PASSWORD}"),
           with_userinfo(store_uri, f":{PASSWORD}")]
    if store_uri.startswith("file:"):
        for s in SCHEMES:
            path = "/0" if s.startswith("redis") else "/x"
            out += [f"{s}://{USER}:{PASSWORD}@127.0.0.1:1{path}",
                    f"{s}://{USER}:{PASSWORD}@127.0.0.1:99999{path}",
                    f"{s}:{USER}:{PASSWORD}@127.0.0.1:1{path}",
                    f"{s}:/{PASSWORD}://127.0.0.1:1{path}",
                    f"{s}://{USER}:{PASSWORD}",
                    # A password with an `@` and no host list: its tail is taken for the host
                    # (`redis://:p@ss`), and nothing may show it.
                    f"{s}://:{PIECES[0]}@{PIECES[1]}",
                    f"{s}://{USER}:{PIECES[0]}@{PIECES[1]}{path}"]
    return out


def exercise(agent, uri, name, failure):
    """Opens `uri`; if that works, starts and waits for the first event (elected or error)."""
    sep = "&" if "?" in uri.rsplit("@", 1)[-1] else "?"
    if agent.request(f"open {uri}{sep}{OPTIONS} {name}") != "ok":
        return
    mark = len(agent.events)
    expect_ok(agent, agent.request("start"), failure)
    deadline = time.monotonic() + 15
    with agent.event_cond:
        while not any(w[0] in ("elected", "error") for _, w in agent.events[mark:]):
            left = deadline - time.monotonic()
            if left <= 0:
                raise failure(f"agent {agent.index}: no event within 15s of start on a "
                              "connection string with user info")
            agent.event_cond.wait(left)
    expect_ok(agent, agent.request("close"), failure)


def expect_ok(agent, reply, failure):
    if reply != "ok":
        raise failure(f"agent {agent.index}: expected `ok`, got a reply of {len(reply)} chars")


def check(agent, store_uri, name, failure):
    """Runs every connection string through `agent`, then scans all it wrote."""
    for uri in uris(store_uri):
        exercise(agent, uri, name, failure)
    agent.request("quit")
    agent.proc.wait(timeout=30)
    agent.stderr_done.wait(timeout=10)
    lines = agent.transcript + agent.stderr_lines
    leaks = [(p, i) for i, line in enumerate(lines) for p in PIECES if p in line]
    if leaks:
        # Say which piece and which line, never the line itself (it holds the password).
        raise failure(f"agent {agent.index}: password fragments in its output: "
                      f"{sorted(set(p for p, _ in leaks))} in {len({i for _, i in leaks})} line(s)")
    if not lines:
        raise failure(f"agent {agent.index}: wrote nothing; the check would be vacuous")


if __name__ == "__main__":
    # For tests in other languages: the pieces on the first line, then one URI per line.
    import sys
    print(" ".join(PIECES))
    print("\n".join(uris(sys.argv[1])))
