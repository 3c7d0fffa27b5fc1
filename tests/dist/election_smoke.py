"""An installed elect leads and hands over, in one process (no fork: it also runs under
qemu-user, which cannot fork a multithreaded program).

    python election_smoke.py file:///tmp/store

Two candidates of one election on the store: the first leads with fencing token 1, the second
does not; the first closes, and the second leads with token 2.
"""

import platform
import sys

import elect

WAIT = 60.0  # emulated aarch64 on a loaded machine is slow


def main(uri: str) -> None:
    with elect.Election(uri, "smoke", id="a", ttl=5.0) as a, elect.Election(uri, "smoke", id="b", ttl=5.0) as b:
        a.start()
        assert a.wait_leader(WAIT), "a was not elected"
        b.start()
        assert a.fencing_token == 1 and not b.wait_leader(0.5), (a.fencing_token, b.state)
        a.close()
        assert b.wait_leader(WAIT), "b did not take over"
        assert b.fencing_token == 2 and b.leader is not None and b.leader.id == "b", b.leader
    print(f"{platform.machine()} CPython {platform.python_version()}: leads, hands over (token 2); {elect.__file__}")


if __name__ == "__main__":
    main(sys.argv[1])
