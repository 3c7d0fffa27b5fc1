package io.elect.bench;

import io.elect.LeaderElection;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.retry.RetryNTimes;

/**
 * elect and the Java peers on the same servers, in one run: Curator's LeaderLatch on ZooKeeper,
 * Redisson's RLock on Redis, and elect on those and on the SQL stores given:
 * <ul>
 * <li>failover after a graceful hand-over (elect {@code resign()}, Curator {@code close()} of
 * the latch and a new one, Redisson {@code unlock()}), from just before the request to the
 * moment the next leader's listener runs, in another process;</li>
 * <li>failover after SIGKILL of the leader's JVM (all sized to the same session/lease time);</li>
 * <li>the cost of {@code isLeader()} / {@code hasLeadership()} in a loop, on a leader.</li>
 * </ul>
 * Three candidate JVMs per case ({@link Fleet}); times on CLOCK_MONOTONIC.
 *
 * <pre>java -cp ... io.elect.bench.CuratorComparison --zk 127.0.0.1:PORT [--redis redis://127.0.0.1:PORT/0]
 *     [--postgres URI] [--mysql URI] [--graceful 20] [--crash 5] [--ttl-ms 4000]
 *     [--cases elect/zk,curator/zk,elect/redis,redisson/redis,elect/postgres,elect/mysql] [--cost] [--json]</pre>
 *
 * {@code --cost} adds the isLeader()/hasLeadership() loop (on ZooKeeper); {@code --graceful 0
 * --crash 0} leaves out the failovers.
 * Cases whose store was not given are skipped. With {@code --json}, results are JSON lines on
 * stdout (scripts/bench collects them into bench/RESULTS.md) and the table goes to stderr.
 */
public final class CuratorComparison {
    private static final Duration PATIENCE = Fleet.PATIENCE;

    /** Where each store is: ZooKeeper host:port, elect URIs of the others. */
    private final Map<String, String> stores;
    private final int gracefulRounds;
    private final int crashRounds;
    private final int ttlMs;
    private final List<String> cases;
    private final boolean json;
    private final boolean cost;
    private final PrintStream table;

    private CuratorComparison(Map<String, String> stores, int gracefulRounds, int crashRounds, int ttlMs,
            List<String> cases, boolean json, boolean cost) {
        this.stores = stores;
        this.cases = cases.stream().filter(c -> stores.containsKey(store(c))).toList();
        this.gracefulRounds = gracefulRounds;
        this.crashRounds = crashRounds;
        this.ttlMs = ttlMs;
        this.json = json;
        this.cost = cost;
        this.table = json ? System.err : System.out;
    }

    private static String lib(String c) {
        return c.substring(0, c.indexOf('/'));
    }

    private static String store(String c) {
        return c.substring(c.indexOf('/') + 1);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> stores = new LinkedHashMap<>();
        int graceful = 20;
        int crash = 5;
        int ttl = 4000;
        boolean json = false;
        boolean cost = false;
        List<String> cases = List.of("elect/zk", "curator/zk", "elect/redis", "redisson/redis",
                "elect/postgres", "elect/mysql");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--json") || args[i].equals("--cost")) {
                json |= args[i].equals("--json");
                cost |= args[i].equals("--cost");
                continue;
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(args[i] + ": missing value");
            }
            String value = args[++i];
            switch (args[i - 1]) {
                case "--zk", "--redis", "--postgres", "--mysql" -> stores.put(args[i - 1].substring(2), value);
                case "--graceful" -> graceful = Integer.parseInt(value);
                case "--crash" -> crash = Integer.parseInt(value);
                case "--ttl-ms" -> ttl = Integer.parseInt(value);
                case "--cases" -> cases = List.of(value.split(","));
                default -> throw new IllegalArgumentException("unknown flag " + args[i - 1]);
            }
        }
        if (stores.isEmpty()) {
            throw new IllegalArgumentException("no store: give --zk host:port and/or --redis, --postgres, --mysql URIs");
        }
        new CuratorComparison(stores, graceful, crash, ttl, cases, json, cost).run();
        System.exit(0);
    }

    private void run() throws Exception {
        table.printf("%s, %d JVM candidates per case, lease/session %d ms%n", stores, 3, ttlMs);
        for (String c : gracefulRounds + crashRounds > 0 ? cases : List.<String>of()) {
            long[][] failovers = failovers(c);
            report(c, "graceful failover", failovers[0], 1e6, "ms");
            report(c, "SIGKILL failover", failovers[1], 1e6, "ms");
        }
        if (cost && cases.contains("elect/zk")) {
            report("elect/zk", "isLeader()", electIsLeaderCost(), 1e3, "ns/call");
        }
        if (cost && cases.contains("curator/zk")) {
            report("curator/zk", "hasLeadership()", curatorHasLeadershipCost(), 1e3, "ns/call");
        }
    }

    private String electUri(String store) {
        if (store.equals("zk")) {
            return "zk://" + stores.get("zk") + "/elect-bench?ttl=" + ttlMs + "ms";
        }
        String uri = stores.get(store);
        return uri + (uri.contains("?") ? "&" : "?") + "ttl=" + ttlMs + "ms";
    }

    /** redis://host:port of an elect Redis URI (Redisson's address form). */
    private String redisAddress() {
        String rest = stores.get("redis").replaceFirst("^rediss?://", "");
        rest = rest.substring(rest.lastIndexOf('@') + 1).split("[/?]")[0];
        return "redis://" + rest;
    }

    private List<String> command(String c, String name, String id) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                Candidate.class.getName(), lib(c)));
        switch (lib(c)) {
            case "elect" -> cmd.addAll(List.of(electUri(store(c)), name, id));
            case "curator" -> cmd.addAll(List.of(stores.get("zk"), name, id, Integer.toString(ttlMs)));
            case "redisson" -> cmd.addAll(List.of(redisAddress(), name, id, Integer.toString(ttlMs)));
            default -> throw new IllegalArgumentException("unknown library in case " + c);
        }
        return cmd;
    }

    /** [graceful nanos[], crash nanos[]] for one case (library/store), on one fleet. */
    private long[][] failovers(String c) throws Exception {
        String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        try (Fleet fleet = new Fleet(id -> new ProcessBuilder(command(c, name, id)))) {
            Fleet.Result graceful = fleet.graceful(gracefulRounds);
            if (graceful.wonBack() > 0) {
                table.printf("%-14s %d resign(s) won back by the resigner, not counted%n", c, graceful.wonBack());
            }
            return new long[][] {graceful.nanos(), fleet.crash(crashRounds).nanos()};
        }
    }

    private long[] electIsLeaderCost() throws Exception {
        try (LeaderElection e = LeaderElection.builder(electUri("zk"), "cost-" + UUID.randomUUID()).build()) {
            e.start();
            if (!e.awaitLeadership(PATIENCE)) {
                throw new IllegalStateException("elect: no leadership for the cost loop");
            }
            return perCall(e::isLeader);
        }
    }

    private long[] curatorHasLeadershipCost() throws Exception {
        try (CuratorFramework client = CuratorFrameworkFactory.newClient(stores.get("zk"), ttlMs, 5000, new RetryNTimes(10, 100))) {
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

    private void report(String c, String what, long[] values, double unit, String unitName) {
        long[] v = values.clone();
        Arrays.sort(v);
        if (v.length == 0) {
            return;
        }
        double median = Stats.nearestRank(v, 50) / unit;
        double p99 = Stats.nearestRank(v, 99) / unit;
        table.printf(Locale.ROOT, "%-14s %-20s median %9.3f %s   p99 %9.3f %s   (n=%d)%n",
                c, what, median, unitName, p99, unitName, v.length);
        if (json) {
            System.out.println(ResultLine.of(lib(c), store(c), what, v, unit, ttlMs, 3));
        }
    }
}
