package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The library's log records reach {@code System.Logger} {@code io.elect} (here backed by
 * java.util.logging, the JDK's default), with election, id and term; a Redis server killed
 * under a leader arrives as WARNING records; {@link LeaderElection#stats()} follows.
 */
class ObserveTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Path REDIS = Path.of("../../scripts/servers/redis").toAbsolutePath().normalize();

    private final Logger jul = Logger.getLogger("io.elect");
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler collect = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (records) {
                records.add(r);
                records.notifyAll();
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        jul.addHandler(collect);
        jul.setLevel(java.util.logging.Level.ALL);
        LeaderElection.setLogLevel(System.Logger.Level.INFO);
    }

    @AfterEach
    void stopListening() {
        jul.removeHandler(collect);
    }

    /** The first record about {@code election} at {@code level} whose message starts so. */
    private LogRecord await(String election, java.util.logging.Level level, String prefix)
            throws InterruptedException {
        synchronized (records) {
            return Waits.until(records, WAIT, () -> records.stream()
                    .filter(r -> r.getLevel().equals(level) && r.getMessage().startsWith(prefix)
                            && r.getMessage().contains("election=" + election + " "))
                    .findFirst(), () -> records.size() + " records");
        }
    }

    @Test
    void leadershipChangesAreLoggedWithElectionIdAndTerm() throws Exception {
        String name = Stores.uniqueName("observe");
        try (LeaderElection e = LeaderElection.builder(Stores.fileUri(), name).id("j1")
                .ttl(Duration.ofSeconds(2)).build()) {
            e.start();
            assertTrue(e.awaitLeadership(WAIT));
            long term = e.fencingToken().orElseThrow();
            LogRecord elected = await(name, java.util.logging.Level.INFO, "elected");
            assertEquals("io.elect", elected.getLoggerName());
            assertTrue(elected.getMessage().contains("id=j1") && elected.getMessage().contains("term=" + term),
                    elected.getMessage());
            ElectionStats s = e.stats();
            assertEquals(1, s.termsWon());
            assertTrue(s.storeConnected() && s.healthy(), s.toString());
            Duration left = s.leaseRemaining().orElseThrow();
            assertTrue(left.compareTo(Duration.ZERO) > 0 && left.compareTo(Duration.ofSeconds(2)) <= 0, left.toString());
            e.resign();
            LogRecord revoked = await(name, java.util.logging.Level.INFO, "revoked");
            assertTrue(revoked.getMessage().contains("reason=resigned"), revoked.getMessage());
            assertEquals(1, e.stats().revocations(RevokeReason.RESIGNED));
        }
    }

    @Test
    void aKilledRedisServerArrivesAsWarnings() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(REDIS), "no scripts/servers/redis");
        String instance = "javaobs" + ProcessHandle.current().pid();
        Map<String, String> vars = start(instance);
        String name = Stores.uniqueName("observe-redis");
        try (LeaderElection e = LeaderElection.builder(vars.get("ELECT_REDIS_URI"), name).id("j2")
                .ttl(Duration.ofSeconds(2)).renew(Duration.ofMillis(300)).retry(Duration.ofMillis(200))
                .connectTimeout(Duration.ofSeconds(1)).build()) {
            e.start();
            assertTrue(e.awaitLeadership(WAIT));
            long term = e.fencingToken().orElseThrow();
            ProcessHandle.of(Long.parseLong(vars.get("ELECT_REDIS_PID"))).ifPresent(ProcessHandle::destroyForcibly);
            LogRecord revoked = await(name, java.util.logging.Level.WARNING, "revoked");
            assertTrue(revoked.getMessage().contains("id=j2") && revoked.getMessage().contains("term=" + term),
                    revoked.getMessage());
            ElectionStats s = e.stats();
            assertTrue(s.storeErrors() >= 1 && !s.storeConnected(), s.toString());
            assertFalse(s.leaseRemaining().isPresent(), s.toString());
            assertEquals(1, s.revocations(RevokeReason.STORE_UNREACHABLE) + s.revocations(RevokeReason.SESSION_LOST)
                    + s.revocations(RevokeReason.LEASE_EXPIRED), s.toString());
        } finally {
            new ProcessBuilder(REDIS.toString(), "stop", instance).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
    }

    /** Starts a Redis server of this test alone; returns what the script exported. */
    private static Map<String, String> start(String instance) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(REDIS.toString(), "start", instance)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "redis start failed: " + out);
        Map<String, String> vars = new HashMap<>();
        for (String line : out.split("\n")) {
            Optional.of(line).filter(l -> l.startsWith("export ")).map(l -> l.substring(7).split("=", 2))
                    .filter(kv -> kv.length == 2).ifPresent(kv -> vars.put(kv[0], kv[1].replace("'", "")));
        }
        return vars;
    }
}
