package io.elect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LeaderGroup} on the file store: two instances in one JVM share four shards 2/2 (counted
 * from their listeners), and when one closes the other leads all four. Bad input names the bad
 * part. (The 3x12 kill-and-return scenario runs in Rust, core/tests/contract.rs.)
 */
class LeaderGroupTest {
    private static final long WAIT_MILLIS = Duration.ofSeconds(15).toMillis();

    /** Which shards each instance leads, from its listener. */
    private static final class Leads {
        private final Map<String, Set<Integer>> held = new HashMap<>();

        synchronized GroupListener listener(String who) {
            held.put(who, new HashSet<>());
            return new GroupListener() {
                @Override
                public void onElected(int shard, long term) {
                    change(who, shard, true);
                }

                @Override
                public void onRevoked(int shard, long term, RevokeReason reason) {
                    change(who, shard, false);
                }
            };
        }

        private synchronized void change(String who, int shard, boolean leads) {
            if (leads) {
                held.get(who).add(shard);
            } else {
                held.get(who).remove(shard);
            }
            notifyAll();
        }

        synchronized void awaitTrue(java.util.function.BooleanSupplier condition)
                throws InterruptedException {
            long end = System.currentTimeMillis() + WAIT_MILLIS;
            while (!condition.getAsBoolean()) {
                long left = end - System.currentTimeMillis();
                assertTrue(left > 0, "condition not met; leads " + held);
                wait(left);
            }
        }

        synchronized void await(String who, int count) throws InterruptedException {
            long end = System.currentTimeMillis() + WAIT_MILLIS;
            while (held.get(who).size() != count) {
                long left = end - System.currentTimeMillis();
                assertTrue(left > 0, who + " leads " + held + ", wanted " + count);
                wait(left);
            }
        }
    }

    @Test
    void twoInstancesShareTheShardsAndOneTakesAllWhenTheOtherLeaves(@TempDir Path dir)
            throws Exception {
        String uri = "file://" + Files.createDirectories(dir.resolve("group")) + "?ttl=2s&renew=500ms";
        Leads leads = new Leads();
        try (LeaderGroup a = LeaderGroup.open(uri, "jobs", 4, 0, Map.of("id", "a"), leads.listener("a"));
                LeaderGroup b = LeaderGroup.open(uri, "jobs", 4, 0, Map.of("id", "b"), leads.listener("b"))) {
            leads.await("a", 2);
            leads.await("b", 2);
            for (int shard : a.leading()) {
                assertTrue(a.isLeader(shard));
                assertFalse(b.isLeader(shard));
                assertTrue(a.fencingToken(shard) > 0);
                assertEquals(0, b.fencingToken(shard));
            }
            assertEquals(4, a.leading().length + b.leading().length);
            b.close();
            leads.await("a", 4);
            // A shard may still be moving from a hand-over begun before b left.
            leads.awaitTrue(() -> a.leading().length == 4);
            assertArrayEquals(new int[] {0, 1, 2, 3}, a.leading());
            assertEquals("jobs", a.name());
            assertEquals(4, a.shards());
            a.close();
            assertEquals(0, a.leading().length, "nothing led after close");
        }
    }

    @Test
    void badInputNamesTheBadPart(@TempDir Path dir) {
        String uri = "file://" + dir;
        ElectException e = assertThrows(ElectException.InvalidArgument.class,
                () -> LeaderGroup.open(uri, "jobs", 0, 0, Map.of(), new GroupListener() {
                }));
        assertTrue(e.getMessage().contains("shards"), e.getMessage());
        e = assertThrows(ElectException.InvalidArgument.class,
                () -> LeaderGroup.open(uri, "jobs", 2, -1, Map.of(), new GroupListener() {
                }));
        assertTrue(e.getMessage().contains("cap"), e.getMessage());
    }
}
