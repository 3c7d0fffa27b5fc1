"""A network namespace joined to the host's by a veth pair, for partition faults (tests/chaos).

Blackhole routes cut it off: ``cut()`` both ways, ``cut("in")`` only packets from the host
into the namespace (its replies still leave). Open connections are not reset: they go silent,
as behind a failed switch. Needs root; ``Netns()`` fails with a message saying so otherwise.
"""
import os
import subprocess


class Netns:
    def __init__(self):
        if os.getuid() != 0:
            raise RuntimeError("network partitions need root (ip netns)")
        pid = os.getpid()
        # A /30 of its own per process; 10.150-199 stays clear of the core tests' 10.200-249.
        a, b = 150 + pid % 50, (pid // 50) % 64 * 4
        self.name, self.host_if, inside = f"ech{pid}", f"ech{pid}h", f"ech{pid}n"
        self.host_addr, self.ns_addr = f"10.{a}.{b}.1", f"10.{a}.{b}.2"
        self.cuts = []
        run("ip", "netns", "add", self.name)
        run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", inside)
        run("ip", "link", "set", inside, "netns", self.name)
        run("ip", "addr", "add", f"{self.host_addr}/30", "dev", self.host_if)
        run("ip", "link", "set", self.host_if, "up")
        self.run("ip", "addr", "add", f"{self.ns_addr}/30", "dev", inside)
        self.run("ip", "link", "set", inside, "up")
        self.run("ip", "link", "set", "lo", "up")

    def prefix(self):
        """The command prefix that runs a program inside."""
        return f"ip netns exec {self.name} "

    def run(self, *args):
        run("ip", "netns", "exec", self.name, *args)

    def cut(self, direction="both"):
        if direction in ("both", "in"):
            self.cuts.append(((), f"{self.ns_addr}/32"))
        if direction in ("both", "out"):
            self.cuts.append((("ip", "netns", "exec", self.name), f"{self.host_addr}/32"))
        for where, dest in self.cuts:
            run(*where, "ip", "route", "add", "blackhole", dest)

    def heal(self):
        for where, dest in self.cuts:
            run(*where, "ip", "route", "del", "blackhole", dest)
        self.cuts = []

    def close(self):
        self.heal()
        subprocess.run(["ip", "link", "del", self.host_if], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)


def run(*args):
    subprocess.run(args, check=True, capture_output=True, text=True)
