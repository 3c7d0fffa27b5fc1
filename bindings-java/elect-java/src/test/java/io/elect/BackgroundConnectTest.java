package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@link LeaderElection.Builder#connectInBackground()}: returns at once, connects, campaigns. */
class BackgroundConnectTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final String name = "bg-" + UUID.randomUUID().toString().substring(0, 8);

    /** A loopback port nothing listens on (bound, then released). */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aReachableStoreIsConnectedAndAnEarlyStartCampaigns() throws Exception {
        try (LeaderElection e = LeaderElection.builder(Stores.fileUri(), name).id("a").connectInBackground()) {
            assertEquals("a", e.id());
            e.start(); // before or after connecting: either way it campaigns
            assertTrue(e.awaitLeadership(WAIT));
            assertTrue(e.isConnected());
            assertTrue(e.connectionError().isEmpty());
            assertEquals("a", e.currentLeader().orElseThrow().id());
            assertThrows(ElectException.WrongState.class, e::start);
        }
    }

    @Test
    void theIdIsKnownBeforeConnectingAndKeptOnConnecting() throws Exception {
        try (LeaderElection e = LeaderElection.builder(Stores.fileUri(), name).connectInBackground()) {
            String id = e.id();
            assertFalse(id.isEmpty());
            e.start();
            assertTrue(e.awaitLeadership(WAIT));
            assertEquals(id, e.currentLeader().orElseThrow().id());
        }
    }

    @Test
    void anUnreachableStoreIsRetriedAndReported() throws Exception {
        Recorder events = new Recorder();
        String uri = "redis://127.0.0.1:" + closedPort() + "/0";
        LeaderElection e = LeaderElection.builder(uri, name).connectTimeout(Duration.ofMillis(300))
                .retry(Duration.ofMillis(100)).listener(events).connectInBackground();
        try {
            e.start();
            String error = events.await("error ", WAIT);
            assertTrue(error.contains("cannot reach its store (retrying every 100 ms)"), error);
            assertFalse(e.isConnected());
            assertFalse(e.isLeader());
            assertTrue(e.fencingToken().isEmpty());
            assertTrue(e.connectionError().orElseThrow() instanceof ElectException.Unreachable);
            assertFalse(e.awaitLeadership(Duration.ofMillis(50)));
            ElectException.Unreachable u = assertThrows(ElectException.Unreachable.class, e::currentLeader);
            assertTrue(u.getMessage().startsWith("election `" + name + "` has not reached its store yet: "),
                    u.getMessage());
            e.resign(); // not leading: a no-op
        } finally {
            e.close();
        }
        assertThrows(ElectException.Closed.class, e::currentLeader);
        assertThrows(ElectException.Closed.class, () -> e.awaitLeadership(WAIT));
        assertThrows(ElectException.Closed.class, e::start);
        assertFalse(e.isLeader());
    }

    @Test
    void badOptionsFailAtOnceWithoutConnecting() {
        ElectException.InvalidArgument bad = assertThrows(ElectException.InvalidArgument.class,
                () -> LeaderElection.builder("redis://127.0.0.1:1/0", name).ttl(Duration.ofSeconds(1))
                        .renew(Duration.ofSeconds(2)).connectInBackground());
        assertTrue(bad.getMessage().contains("renew"), bad.getMessage());
        assertThrows(ElectException.InvalidArgument.class,
                () -> LeaderElection.builder("nosuch://x", name).connectInBackground());
    }

    @Test
    void awaitingLeadershipWithoutStartingIsAnError() {
        try (LeaderElection e = LeaderElection.builder("redis://127.0.0.1:1/0", name)
                .connectTimeout(Duration.ofMillis(200)).connectInBackground()) {
            assertThrows(ElectException.WrongState.class, () -> e.awaitLeadership(WAIT));
        }
    }
}
