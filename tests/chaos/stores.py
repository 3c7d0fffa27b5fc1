"""Private store servers for the chaos suite, started and crashed through scripts/servers/*.

``Store(kind, run_dir)`` is one server; ``Store(kind, run_dir, "cluster")`` three members
(etcd cluster, ZooKeeper ensemble); ``Store("zk", run_dir, "partition", net)`` a ZooKeeper
ensemble whose third member listens inside the network namespace ``net`` (netns.py) and the
others on the host's end of its link. Data lives under ``run_dir`` (ELECT_RUN_DIR), so the suite
never touches the shared servers of scripts/test.
"""
import glob
import os
import re
import shlex
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Redis as Debian packages it: RDB snapshots at redis.conf's default save points, no AOF.
REDIS_DEBIAN = ["--save", "3600 1 300 100 60 10000", "--appendonly", "no"]
# PostgreSQL as Debian packages it: scripts/servers/postgres turns durability off for speed,
# and a crash then loses acknowledged commits (renewals among them).
POSTGRES_DEBIAN = ["ALTER SYSTEM SET fsync = on", "ALTER SYSTEM SET synchronous_commit = on",
                   "ALTER SYSTEM SET full_page_writes = on", "SELECT pg_reload_conf()"]
# MariaDB as Debian packages it: scripts/servers/mysql flushes the redo log once a second.
MYSQL_DEBIAN = ["SET GLOBAL innodb_flush_log_at_trx_commit = 1"]


class Store:
    def __init__(self, kind, run_dir, setup="single", net=None):
        self.kind, self.cluster = kind, setup != "single"
        self.name = "chaos" if setup == "single" else f"chaos-{setup}"
        self.env = dict(os.environ, ELECT_RUN_DIR=run_dir)
        if net:
            self.env.update(ELECT_ZK_MEMBER_ADDRS=f"{net.host_addr} {net.host_addr} {net.ns_addr}",
                            ELECT_ZK_MEMBER_NETNS=f"- - {net.name}")
        self.exports = {}
        verb = {"etcd": "start-cluster", "zk": "start-ensemble"}[kind] if self.cluster else "start"
        self.server(verb, *(REDIS_DEBIAN if kind == "redis" else []))
        if kind == "postgres":
            self.psql(POSTGRES_DEBIAN)
        if kind == "mysql":
            for statement in MYSQL_DEBIAN:
                subprocess.run(["mariadb", "--no-defaults", "--skip-ssl", "-u", "root", "-S",
                                self.exports["ELECT_MYSQL_SOCKET"], "-e", statement],
                               check=True, capture_output=True, text=True)

    def psql(self, sql):
        """Runs statements as the superuser over the cluster's private socket."""
        psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
        for statement in sql:
            subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                            self.exports["ELECT_POSTGRES_SOCKET"], "-p",
                            self.exports["ELECT_POSTGRES_PORT"], "-U", "postgres", "-c", statement],
                           check=True, capture_output=True, text=True)

    def server(self, *args):
        """Runs scripts/servers/<kind> with args; keeps the exports it prints."""
        out = subprocess.run([os.path.join(ROOT, "scripts/servers", self.kind), args[0], self.name,
                              *args[1:]], env=self.env, check=True, capture_output=True,
                             text=True).stdout
        for m in re.finditer(r"^export (\w+)=(.*)$", out, re.M):
            self.exports[m.group(1)] = shlex.split(m.group(2))[0] if m.group(2) else ""
        return out.strip()

    @property
    def uri(self):
        return self.exports[f"ELECT_{self.kind.upper()}_URI"]

    @property
    def address(self):
        """host, port of a single server (what a proxy forwards to)."""
        host, port = re.search(r"@?(127\.0\.0\.1):(\d+)", self.uri).groups()
        return host, int(port)

    def pid(self):
        return int(self.server("pid"))

    def snapshot(self):
        """Makes the store's persistent state what a crash would find: Redis writes its RDB
        snapshot now (as a save point would); the others persist every commit anyway."""
        if self.kind == "redis":
            port = str(self.address[1])
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", port, "SAVE"], check=True,
                           capture_output=True, text=True)

    def crash_restart(self):
        """Kills the server without warning and starts it again on the same data and port."""
        if self.kind == "postgres":
            data = os.path.join(self.env["ELECT_RUN_DIR"], f"postgres-{self.name}", "data")
            pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
            as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
            # `immediate`: every server process quits at once, no checkpoint; the restart
            # recovers from the WAL, as after a crash.
            subprocess.run(as_pg + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                           check=True, capture_output=True, text=True)
            self.server("start")
            return
        pid = self.pid()
        os.kill(pid, 9)
        wait_gone(pid)
        if self.kind == "redis":
            # The script's `restart` first stops the old pid, and would wait for the zombie
            # until init reaps it; the server is gone already.
            os.remove(os.path.join(self.exports["ELECT_REDIS_DIR"], "redis.pid"))
        self.server({"etcd": "start", "zk": "restart", "redis": "restart",
                     "mysql": "start"}[self.kind])

    def kill_leader(self):
        """SIGKILLs the Raft/Zab leader of a cluster; returns what restart_member needs."""
        if self.kind == "etcd":
            member, pid, _ = self.server("leader").split()
        else:
            pid = self.server("leader")
            member = next(n for n in "123" if self.server("pid", n) == pid)
        os.kill(int(pid), 9)
        wait_gone(int(pid))
        return member

    def restart_member(self, member):
        self.server("restart-member" if self.kind == "etcd" else "restart", member)

    def stop(self):
        self.server("destroy" if self.kind == "etcd" else "stop")


def wait_gone(pid):
    """Waits until a killed server has exited (a zombie counts as gone: its parent, not us,
    reaps it)."""
    for _ in range(500):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)
