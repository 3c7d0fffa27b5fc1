package io.elect.bench;

import io.elect.LeaderElection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
 * Three candidate JVMs per library ({@link Candidate}); times on CLOCK_MONOTONIC.
 *
 * <pre>java -cp ... io.elect.bench.CuratorComparison --zk 127.0.0.1:PORT [--graceful 20] [--crash 5]
 *     [--ttl-ms 4000] [--libs elect,curator]</pre>
 */
public final class CuratorComparison {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    /** For the resigner or a replacement to be waiting in line again before the next round. */
    private static final long SETTLE_MS = 100;

    private final String zk;
    private final int gracefulRounds;
    private final int crashRounds;
    private final int ttlMs;
    private final List<String> libs;
    private final BlockingQueue<Line> lines = new LinkedBlockingQueue<>();
    private final List<Line> backlog = new ArrayList<>();

    record Line(Proc from, String text) {
    }

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
            long[][] failovers = failovers(lib);
            report(lib, "graceful failover", failovers[0], 1e6, "ms");
            report(lib, "SIGKILL failover", failovers[1], 1e6, "ms");
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

    /** [graceful nanos[], crash nanos[]] for one library. */
    private long[][] failovers(String lib) throws Exception {
        String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        List<Proc> procs = new ArrayList<>();
        int next = 0;
        backlog.clear(); // lines of the previous library's processes
        lines.clear();
        try {
            for (; next < 3; next++) {
                procs.add(start(lib, name, "c" + next));
            }
            for (Proc p : procs) {
                awaitLine(l -> l.from == p && l.text.equals("ready"), null);
            }
            Proc leader = awaitLine(l -> procs.contains(l.from) && l.text.startsWith("elected "), null).from;
            Thread.sleep(10 * SETTLE_MS); // every candidate connected and in line
            long[] graceful = new long[gracefulRounds];
            int wonBack = 0;
            for (int r = 0; r < gracefulRounds; ) {
                Thread.sleep(SETTLE_MS);
                long t0 = System.nanoTime();
                leader.send("resign");
                Proc resigner = leader;
                Line elected = awaitLine(l -> l.text.startsWith("elected ") && stamp(l) > t0, null);
                awaitLine(l -> l.from == resigner && l.text.equals("resigned"), null);
                leader = elected.from;
                if (elected.from == resigner) {
                    wonBack++; // not a hand-over: measure again
                    continue;
                }
                graceful[r++] = stamp(elected) - t0;
            }
            if (wonBack > 0) {
                System.out.printf("%-8s %d resign(s) won back by the resigner, not counted%n", lib, wonBack);
            }
            long[] crash = new long[crashRounds];
            for (int r = 0; r < crashRounds; r++) {
                Thread.sleep(SETTLE_MS);
                Proc victim = leader;
                long t0 = System.nanoTime();
                victim.kill();
                Line elected = awaitLine(l -> l.from != victim && l.text.startsWith("elected ")
                        && stamp(l) > t0, null);
                crash[r] = stamp(elected) - t0;
                leader = elected.from;
                procs.remove(victim);
                Proc replacement = start(lib, name, "c" + next++);
                procs.add(replacement);
                awaitLine(l -> l.from == replacement && l.text.equals("ready"), null);
            }
            return new long[][] {graceful, crash};
        } finally {
            for (Proc p : procs) {
                p.close();
            }
        }
    }

    private Proc start(String lib, String name, String id) throws IOException {
        return new Proc(command(lib, name, id), lines);
    }

    private static long stamp(Line l) {
        return Long.parseLong(l.text.substring(l.text.indexOf(' ') + 1));
    }

    /** The next line matching {@code p}, from the backlog of unmatched lines or the pipes. */
    private Line awaitLine(Predicate<Line> p, Duration timeout) throws InterruptedException {
        for (Iterator<Line> it = backlog.iterator(); it.hasNext(); ) {
            Line l = it.next();
            if (p.test(l)) {
                it.remove();
                return l;
            }
        }
        long deadline = System.nanoTime() + (timeout == null ? PATIENCE : timeout).toNanos();
        while (true) {
            Line l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new IllegalStateException("no expected line within " + PATIENCE + "; unmatched: " + backlog);
            }
            if (p.test(l)) {
                return l;
            }
            backlog.add(l);
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

    /**
     * The p-th percentile of sorted values by nearest rank, the one definition of every benchmark
     * of the project (bench/README.md): the smallest value such that at least p % are at or below.
     */
    static long nearestRank(long[] sorted, int p) {
        int rank = (int) Math.ceil(sorted.length * (p / 100.0));
        return sorted[Math.max(1, rank) - 1];
    }

    private static void report(String lib, String what, long[] values, double unit, String unitName) {
        long[] v = values.clone();
        Arrays.sort(v);
        double median = nearestRank(v, 50) / unit;
        double p99 = nearestRank(v, 99) / unit;
        System.out.printf(Locale.ROOT, "%-8s %-20s median %9.3f %s   p99 %9.3f %s   (n=%d)%n",
                lib, what, median, unitName, p99, unitName, v.length);
    }

    /** One candidate JVM; its lines go to the shared queue. */
    static final class Proc implements AutoCloseable {
        private final Process process;
        private final Writer in;

        Proc(List<String> command, BlockingQueue<Line> lines) throws IOException {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null) {
                        lines.add(new Line(this, line));
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        void send(String line) throws IOException {
            in.write(line + "\n");
            in.flush();
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                try {
                    send("quit");
                } catch (IOException ignored) {
                    // gone already
                }
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }

        @Override
        public String toString() {
            return "pid " + process.pid();
        }
    }
}
