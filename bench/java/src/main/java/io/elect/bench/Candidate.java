package io.elect.bench;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.RetryNTimes;

/**
 * One candidate process of the comparison, with either library:
 * {@code Candidate elect <uri> <name> <id>} or {@code Candidate curator <connect> <name> <id>
 * <sessionTimeoutMs>}. Prints {@code ready}, {@code elected <nanoTime>} (System.nanoTime is
 * CLOCK_MONOTONIC, shared by every process of the machine) and {@code resigned}; reads
 * {@code resign} and {@code quit}.
 */
public final class Candidate {
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
            default -> throw new IllegalArgumentException("library: elect or curator, not " + args[0]);
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
