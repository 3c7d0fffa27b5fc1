package io.elect.bench;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.SynchronousQueue;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.RetryNTimes;
import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * One candidate process of a comparison, with one library:
 * {@code Candidate elect <uri> <name> <id>} ({@code -} as the URI: from {@code ELECT_BENCH_URI},
 * so that a password stays off the command line), {@code Candidate curator <connect> <name> <id>
 * <sessionTimeoutMs>}, {@code Candidate redisson <redis://host:port> <name> <id> <ttlMs>} or
 * {@code Candidate spring-jdbc - <name> <id> <ttlMs>} (the JDBC connection from the
 * environment: {@link SpringJdbcSide.Jdbc}). Prints {@code ready}, {@code elected <nanoTime>} (System.nanoTime is
 * CLOCK_MONOTONIC, shared by every process of the machine) and {@code resigned}; reads
 * {@code resign} and {@code quit}.
 */
public final class Candidate {
    /** Where {@code elect -} reads its URI. */
    static final String URI_ENV = "ELECT_BENCH_URI";

    interface Side extends AutoCloseable {
        void resign() throws Exception;
    }

    private Candidate() {
    }

    static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        Side side = switch (args[0]) {
            case "elect" -> elect(args[1], args[2], args[3]);
            case "curator" -> curator(args[1], args[2], args[3], Integer.parseInt(args[4]));
            case "redisson" -> redisson(args[1], args[2], Integer.parseInt(args[4]));
            case "spring-jdbc" -> new SpringJdbcSide(SpringJdbcSide.Jdbc.fromEnv(), args[2], args[3],
                    Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException(
                    "library: elect, curator, redisson or spring-jdbc, not " + args[0]);
        };
        say("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.equals("quit")) {
            if (line.equals("resign")) {
                side.resign();
                say("resigned");
            }
        }
        side.close();
        System.exit(0);
    }

    private static Side elect(String uri, String name, String id) {
        if (uri.equals("-")) {
            uri = System.getenv(URI_ENV);
        }
        // The peers log nothing either (slf4j-nop), so no side pays for a log line per event.
        LeaderElection.setLogLevel(System.Logger.Level.WARNING);
        LeaderElection e = LeaderElection.builder(uri, name).id(id).listener(new LeadershipListener() {
            @Override
            public void onElected(long term) {
                say("elected " + System.nanoTime());
            }
        }).build();
        e.start();
        return new Side() {
            @Override
            public void resign() {
                e.resign();
            }

            @Override
            public void close() {
                e.close();
            }
        };
    }

    private static Side curator(String connect, String name, String id, int sessionTimeoutMs)
            throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.newClient(connect, sessionTimeoutMs,
                (int) Duration.ofSeconds(5).toMillis(), new RetryNTimes(100, 100));
        client.start();
        client.blockUntilConnected();
        String path = "/curator-bench/" + name;
        LeaderLatch[] latch = {newLatch(client, path, id)};
        return new Side() {
            /** LeaderLatch has no resign: close the latch (releasing the node) and join anew. */
            @Override
            public void resign() throws Exception {
                latch[0].close();
                latch[0] = newLatch(client, path, id);
            }

            @Override
            public void close() throws Exception {
                latch[0].close();
                client.close();
            }
        };
    }

    /** How long a resigned Redisson candidate stays out, so that a waiter takes the lock. */
    private static final long REDISSON_REPAUSE_MS = 100;

    /**
     * Redisson's {@code RLock} as a leader election: {@code lock()} blocks until the lock is
     * free (woken by the unlock message on the lock's channel, or when the holder's lease runs
     * out) and keeps the lock with its watchdog, which renews it every lockWatchdogTimeout/3;
     * that timeout is the lease ({@code ttlMs}). An RLock belongs to the thread that took it, so
     * one thread takes, holds and unlocks it.
     */
    private static Side redisson(String address, String name, int ttlMs) {
        Config config = new Config();
        config.setLockWatchdogTimeout(ttlMs);
        config.useSingleServer().setAddress(address);
        RedissonClient client = Redisson.create(config);
        RLock lock = client.getLock("redisson-bench:" + name);
        SynchronousQueue<Boolean> resign = new SynchronousQueue<>();
        Thread holder = new Thread(() -> {
            try {
                while (true) {
                    lock.lockInterruptibly();
                    say("elected " + System.nanoTime());
                    resign.take();
                    lock.unlock();
                    Thread.sleep(REDISSON_REPAUSE_MS);
                }
            } catch (InterruptedException e) {
                if (lock.isHeldByCurrentThread()) {
                    lock.unlock();
                }
            }
        }, "redisson-candidate");
        holder.setDaemon(true);
        holder.start();
        return new Side() {
            @Override
            public void resign() throws InterruptedException {
                resign.put(true);
            }

            @Override
            public void close() throws InterruptedException {
                holder.interrupt();
                holder.join(5000);
                client.shutdown();
            }
        };
    }

    private static LeaderLatch newLatch(CuratorFramework client, String path, String id) throws Exception {
        LeaderLatch latch = new LeaderLatch(client, path, id);
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                say("elected " + System.nanoTime());
            }

            @Override
            public void notLeader() {
            }
        });
        latch.start();
        return latch;
    }
}
