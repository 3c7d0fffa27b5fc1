package io.elect.bench;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.RetryNTimes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * elect and Curator's {@code LeaderLatch} side by side on one ZooKeeper server
 * ({@code $ELECT_ZK_URI}; bench/java/jmh starts one), in one JMH run:
 *
 * <ul>
 * <li>{@code *IsLeader}: the leadership check a guarded job makes, on a leader: elect's
 * {@code isLeader()} (a JNI call and a lease-deadline check) and Curator's
 * {@code hasLeadership()} (a field read).
 * <li>{@code *Regain}: the event path, one candidate alone: give up leadership and wait until
 * its own listener hears it has leadership again (elect: {@code resign()}, the store, the
 * native dispatcher, JNI, {@code onElected}; Curator: {@code close()} and a new latch, its
 * only way to step down, the store, {@code isLeader()}).
 * </ul>
 */
@Fork(value = 1, jvmArgsAppend = "-Xmx256m")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LeadershipBench {
    private static final Duration WAIT = Duration.ofSeconds(30);

    static String zkUri() {
        String uri = System.getenv("ELECT_ZK_URI");
        if (uri == null || uri.isEmpty()) {
            throw new IllegalStateException("ELECT_ZK_URI is not set (bench/java/jmh starts a server)");
        }
        return uri;
    }

    /** zk://host:port[,host:port]/chroot?... -> host:port[,...] */
    static String zkHosts() {
        String hosts = zkUri().substring("zk://".length());
        int end = hosts.indexOf('/');
        hosts = end < 0 ? hosts : hosts.substring(0, end);
        end = hosts.indexOf('?');
        return end < 0 ? hosts : hosts.substring(0, end);
    }

    @State(Scope.Benchmark)
    public static class Elect {
        LeaderElection election;
        final Semaphore elected = new Semaphore(0);

        @Setup(Level.Trial)
        public void setUp() throws InterruptedException {
            election = LeaderElection.builder(zkUri(), "jmh-" + UUID.randomUUID()).ttl(Duration.ofSeconds(4))
                    .listener(new LeadershipListener() {
                        @Override
                        public void onElected(long term) {
                            elected.release();
                        }
                    }).build();
            election.start();
            acquire(elected);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            election.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Curator {
        CuratorFramework client;
        LeaderLatch latch;
        final String path = "/curator-jmh/" + UUID.randomUUID();
        final Semaphore elected = new Semaphore(0);

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            client = CuratorFrameworkFactory.newClient(zkHosts(), 4000, 5000, new RetryNTimes(10, 100));
            client.start();
            client.blockUntilConnected();
            latch = newLatch();
            acquire(elected);
        }

        LeaderLatch newLatch() throws Exception {
            LeaderLatch l = new LeaderLatch(client, path);
            l.addListener(new LeaderLatchListener() {
                @Override
                public void isLeader() {
                    elected.release();
                }

                @Override
                public void notLeader() {
                }
            });
            l.start();
            return l;
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            latch.close();
            client.close();
        }
    }

    static void acquire(Semaphore s) throws InterruptedException {
        if (!s.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("no leadership within " + WAIT);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public boolean electIsLeader(Elect s) {
        return s.election.isLeader();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public boolean curatorHasLeadership(Curator s) {
        return s.latch.hasLeadership();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void electRegain(Elect s) throws InterruptedException {
        s.election.resign();
        acquire(s.elected);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void curatorRegain(Curator s) throws Exception {
        s.latch.close();
        s.latch = s.newLatch();
        acquire(s.elected);
    }
}
