package io.elect.bench;

import io.elect.LeaderElection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.retry.RetryNTimes;

/**
 * elect and Curator's LeaderLatch on the same ZooKeeper server, in one run:
 * <ul>
 * <li>failover after a graceful hand-over (elect {@code resign()}, Curator {@code close()} of
 * the latch and a new one), from just before the request to the moment the next leader's
 * listener runs, in another process;</li>
 * <li>failover after SIGKILL of the leader's JVM (both sized to the same session/lease time);</li>
 * <li>the cost of {@code isLeader()} / {@code hasLeadership()} in a loop, on a leader.</li>
 * </ul>
 * Three candidate JVMs per library ({@link Fleet}); times on CLOCK_MONOTONIC.
 *
 * <pre>java -cp ... io.elect.bench.CuratorComparison --zk 127.0.0.1:PORT [--graceful 20] [--crash 5]
 *     [--ttl-ms 4000] [--libs elect,curator]</pre>
 */
public final class CuratorComparison {
    private static final Duration PATIENCE = Fleet.PATIENCE;

    private final String zk;
    private final int gracefulRounds;
    private final int crashRounds;
    private final int ttlMs;
    private final List<String> libs;

    private CuratorComparison(String zk, int gracefulRounds, int crashRounds, int ttlMs, List<String> libs) {
        this.zk = zk;
        this.libs = libs;
        this.gracefulRounds = gracefulRounds;
        this.crashRounds = crashRounds;
        this.ttlMs = ttlMs;
    }

    public static void main(String[] args) throws Exception {
        String zk = null;
        int graceful = 20;
        int crash = 5;
        int ttl = 4000;
        List<String> libs = List.of("elect", "curator");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--zk" -> zk = args[i + 1];
                case "--graceful" -> graceful = Integer.parseInt(args[i + 1]);
                case "--crash" -> crash = Integer.parseInt(args[i + 1]);
                case "--ttl-ms" -> ttl = Integer.parseInt(args[i + 1]);
                case "--libs" -> libs = List.of(args[i + 1].split(","));
                default -> throw new IllegalArgumentException("unknown flag " + args[i]);
            }
        }
        if (zk == null) {
            throw new IllegalArgumentException("--zk host:port is required");
        }
        new CuratorComparison(zk, graceful, crash, ttl, libs).run();
        System.exit(0);
    }

    private void run() throws Exception {
        System.out.printf("ZooKeeper %s, %d JVM candidates per library, lease/session %d ms%n", zk, 3, ttlMs);
        for (String lib : libs) {
            Fleet.Result[] failovers = failovers(lib);
            report(lib, "graceful failover", failovers[0].nanos(), 1e6, "ms");
            report(lib, "SIGKILL failover", failovers[1].nanos(), 1e6, "ms");
        }
        if (libs.contains("elect")) {
            report("elect", "isLeader()", electIsLeaderCost(), 1e3, "ns/call");
        }
        if (libs.contains("curator")) {
            report("curator", "hasLeadership()", curatorHasLeadershipCost(), 1e3, "ns/call");
        }
    }

    private String electUri() {
        return "zk://" + zk + "/elect-bench?ttl=" + ttlMs + "ms";
    }

    private List<String> command(String lib, String name, String id) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                Candidate.class.getName(), lib));
        if (lib.equals("elect")) {
            cmd.addAll(List.of(electUri(), name, id));
        } else {
            cmd.addAll(List.of(zk, name, id, Integer.toString(ttlMs)));
        }
        return cmd;
    }

    /** [graceful, crash] for one library, on one fleet of candidates. */
    private Fleet.Result[] failovers(String lib) throws Exception {
        String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        try (Fleet fleet = new Fleet(id -> new ProcessBuilder(command(lib, name, id)))) {
            Fleet.Result graceful = fleet.graceful(gracefulRounds);
            if (graceful.wonBack() > 0) {
                System.out.printf("%-8s %d resign(s) won back by the resigner, not counted%n", lib, graceful.wonBack());
            }
            return new Fleet.Result[] {graceful, fleet.crash(crashRounds)};
        }
    }

    private long[] electIsLeaderCost() throws Exception {
        try (LeaderElection e = LeaderElection.builder(electUri(), "cost-" + UUID.randomUUID()).build()) {
            e.start();
            if (!e.awaitLeadership(PATIENCE)) {
                throw new IllegalStateException("elect: no leadership for the cost loop");
            }
            return perCall(e::isLeader);
        }
    }

    private long[] curatorHasLeadershipCost() throws Exception {
        try (CuratorFramework client = CuratorFrameworkFactory.newClient(zk, ttlMs, 5000, new RetryNTimes(10, 100))) {
            client.start();
            try (LeaderLatch latch = new LeaderLatch(client, "/curator-bench/cost-" + UUID.randomUUID())) {
                latch.start();
                if (!latch.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException("curator: no leadership for the cost loop");
                }
                return perCall(latch::hasLeadership);
            }
        }
    }

    interface Check {
        boolean leads();
    }

    /** Picoseconds per call, one value per batch of calls, after a JIT warm-up. */
    private static long[] perCall(Check check) {
        final int batch = 10_000;
        final int batches = 300;
        long[] out = new long[batches];
        int sink = 0;
        for (int i = 0; i < 200_000; i++) {
            sink += check.leads() ? 1 : 0;
        }
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                sink += check.leads() ? 1 : 0;
            }
            out[b] = (System.nanoTime() - t0) * 1000 / batch;
        }
        if (sink != 200_000 + batch * batches) {
            throw new IllegalStateException("lost leadership during the cost loop");
        }
        return out;
    }

    private static void report(String lib, String what, long[] values, double unit, String unitName) {
        double[] m = Stats.medianP99(values, unit);
        System.out.printf(Locale.ROOT, "%-8s %-20s median %9.3f %s   p99 %9.3f %s   (n=%d)%n",
                lib, what, m[0], unitName, m[1], unitName, values.length);
    }
}
