package io.elect.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.elect.testing.LineProcess;

/**
 * Three candidate JVMs ({@link Candidate}) of one library in one election, and the failover
 * rounds every comparison runs on them:
 * <ul>
 * <li>{@link #graceful}: the leader is asked to step down ({@code resign}); timed from just
 * before the request to the moment the next leader's listener runs in another JVM. A step-down
 * that the same JVM wins back is counted apart and measured again;</li>
 * <li>{@link #crash}: the leader's JVM is SIGKILLed (and replaced, so three stay in line);
 * timed from just before the kill to another JVM's listener;</li>
 * <li>{@link #shutdown}: the leader's JVM is told to quit, as in a redeploy (it closes its
 * election and exits; replaced like a killed one); timed the same way.</li>
 * </ul>
 * Times are {@code System.nanoTime()} stamps, i.e. CLOCK_MONOTONIC, which every process of the
 * machine shares.
 */
final class Fleet implements AutoCloseable {
    static final Duration PATIENCE = Duration.ofSeconds(60);
    /** For the resigner or a replacement to be waiting in line again before the next round. */
    static final long SETTLE_MS = 100;
    private static final int SIZE = 3;

    /** How to start candidate {@code id} of this fleet's library and election. */
    interface Launcher {
        ProcessBuilder candidate(String id);
    }

    /**
     * Samples in nanoseconds, how many step-downs the same candidate won back, and how many
     * times leadership changed between rounds without being asked to (a lease lost to a late
     * renewal).
     */
    record Result(long[] nanos, int wonBack, int unprompted) {
    }

    record Line(Proc from, String text) {
    }

    private final Launcher launcher;
    private final BlockingQueue<Line> lines = new LinkedBlockingQueue<>();
    private final List<Line> backlog = new ArrayList<>();
    private final List<Proc> procs = new ArrayList<>();
    private int started;
    private Proc leader;

    /** Starts the candidates and waits until one leads and the others are in line. */
    Fleet(Launcher launcher) throws Exception {
        this.launcher = launcher;
        try {
            while (started < SIZE) {
                procs.add(start());
            }
            for (Proc p : procs) {
                awaitLine(l -> l.from == p && l.text.equals("ready"));
            }
            leader = awaitLine(l -> l.text.startsWith("elected ")).from;
            Thread.sleep(10 * SETTLE_MS);
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    Result graceful(int rounds) throws Exception {
        long[] out = new long[rounds];
        int wonBack = 0;
        int unprompted = 0;
        for (int r = 0; r < rounds; ) {
            unprompted += settle();
            Proc resigner = leader;
            long t0 = System.nanoTime();
            resigner.send("resign");
            Line elected = awaitLine(l -> l.text.startsWith("elected ") && stamp(l) > t0);
            awaitLine(l -> l.from == resigner && l.text.equals("resigned"));
            leader = elected.from;
            if (elected.from == resigner) {
                wonBack++;
                continue;
            }
            out[r++] = stamp(elected) - t0;
        }
        return new Result(out, wonBack, unprompted);
    }

    Result crash(int rounds) throws Exception {
        return replaceLeader(rounds, true);
    }

    Result shutdown(int rounds) throws Exception {
        return replaceLeader(rounds, false);
    }

    private Result replaceLeader(int rounds, boolean kill) throws Exception {
        long[] out = new long[rounds];
        int unprompted = 0;
        for (int r = 0; r < rounds; r++) {
            unprompted += settle();
            Proc victim = leader;
            long t0 = System.nanoTime();
            if (kill) {
                victim.kill();
            } else {
                victim.close();
            }
            Line elected = awaitLine(l -> l.from != victim && l.text.startsWith("elected ") && stamp(l) > t0);
            out[r] = stamp(elected) - t0;
            leader = elected.from;
            procs.remove(victim);
            Proc replacement = start();
            procs.add(replacement);
            awaitLine(l -> l.from == replacement && l.text.equals("ready"));
        }
        return new Result(out, 0, unprompted);
    }

    /**
     * Waits {@link #SETTLE_MS}, then takes the latest leader from any {@code elected} line that
     * came meanwhile (a leadership that changed hands on its own, which the next round must not
     * mistake for its own doing); returns how many such lines there were.
     */
    private int settle() throws InterruptedException {
        Thread.sleep(SETTLE_MS);
        lines.drainTo(backlog);
        int changes = 0;
        long latest = Long.MIN_VALUE;
        for (Iterator<Line> it = backlog.iterator(); it.hasNext(); ) {
            Line l = it.next();
            if (l.text.startsWith("elected ")) {
                changes++;
                if (stamp(l) > latest) {
                    latest = stamp(l);
                    leader = l.from;
                }
                it.remove();
            }
        }
        return changes;
    }

    private Proc start() throws IOException {
        return new Proc(launcher.candidate("c" + started++), lines);
    }

    private static long stamp(Line l) {
        return Long.parseLong(l.text.substring(l.text.indexOf(' ') + 1));
    }

    /** The next line matching {@code p}, from the backlog of unmatched lines or the pipes. */
    private Line awaitLine(Predicate<Line> p) throws InterruptedException {
        for (Iterator<Line> it = backlog.iterator(); it.hasNext(); ) {
            Line l = it.next();
            if (p.test(l)) {
                it.remove();
                return l;
            }
        }
        long deadline = System.nanoTime() + PATIENCE.toNanos();
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

    @Override
    public void close() throws Exception {
        for (Proc p : procs) {
            p.close();
        }
        procs.clear();
    }

    /** One candidate JVM; its lines go to the fleet's queue. */
    static final class Proc implements AutoCloseable {
        private final LineProcess process;

        Proc(ProcessBuilder builder, BlockingQueue<Line> lines) throws IOException {
            process = new LineProcess(builder.redirectError(ProcessBuilder.Redirect.INHERIT),
                    "fleet-reader", line -> lines.add(new Line(this, line)));
        }

        void send(String line) throws IOException {
            process.send(line);
        }

        void kill() throws InterruptedException {
            process.kill();
        }

        @Override
        public void close() throws Exception {
            process.close();
        }

        @Override
        public String toString() {
            return process.toString();
        }
    }
}
