package io.elect.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A context whose store (a real Redis server, scripts/servers/redis) is down starts anyway:
 * the election connects and campaigns once the server is started, health says which state it
 * is in, and {@link LeaderOnly} methods are skipped until this instance leads.
 */
class StoreDownAtStartTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path runDir;
    private Path script;
    private final String instance = "starter-down";

    @BeforeEach
    void findScript() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isExecutable(dir.resolve("scripts/servers/redis"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("scripts/servers/redis above " + Path.of("").toAbsolutePath()).isNotNull();
        script = dir.resolve("scripts/servers/redis");
    }

    @AfterEach
    void stopServer() throws Exception {
        server(false, "stop");
    }

    /** Runs the server script in this test's own ELECT_RUN_DIR; returns its output. */
    private String server(boolean keepRunDir, String command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(script.toString(), command, instance).redirectErrorStream(true);
        pb.environment().put("ELECT_RUN_DIR", runDir.toString());
        if (keepRunDir) {
            pb.environment().put("ELECT_KEEP_RUN_DIR", "1");
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(command + ": " + out).isZero();
        return out;
    }

    @Test
    void theContextStartsWhileTheStoreIsDownAndCampaignsOnceItIsUp() throws Exception {
        // A port that is known to be the server's, then the server stopped: nothing listens there.
        String exports = server(false, "start");
        String uri = exports.lines().filter(l -> l.startsWith("export ELECT_REDIS_URI="))
                .map(l -> l.substring("export ELECT_REDIS_URI=".length())).findFirst().orElseThrow();
        server(true, "stop");

        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ElectAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                .withBean("job", CountingJob.class)
                .withBean(Errors.class)
                .withPropertyValues("elect.uri=" + uri, "elect.name=down-at-start", "elect.id=me",
                        "elect.connect-timeout=500ms", "elect.retry=200ms", "elect.ttl=3s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    LeaderElection election = context.getBean(LeaderElection.class);
                    Errors errors = context.getBean(Errors.class);
                    String error = errors.awaitFirst();
                    assertThat(error).contains("cannot reach its store (retrying every 200 ms)");

                    HealthIndicator health = context.getBean("electHealthIndicator", HealthIndicator.class);
                    Health h = health.health();
                    assertThat(h.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(h.getDetails()).containsEntry("state", "connecting").containsEntry("leader", false)
                            .containsEntry("id", "me").containsKey("error");
                    assertThat(election.isConnected()).isFalse();
                    assertThat(election.isLeader()).isFalse();
                    CountingJob job = context.getBean(CountingJob.class);
                    assertThat(job.run()).isZero();

                    server(false, "restart");
                    assertThat(election.awaitLeadership(WAIT)).isTrue();
                    assertThat(election.isConnected()).isTrue();
                    h = health.health();
                    assertThat(h.getStatus()).isEqualTo(Status.UP);
                    assertThat(h.getDetails()).containsEntry("state", "connected").containsEntry("leader", true)
                            .containsEntry("storeConnected", true).containsKey("leaseRemainingMillis");
                    assertThat(job.run()).isEqualTo(1);

                    // Losing the store shows without a store round trip by the probe.
                    int seen = errors.count();
                    server(true, "halt");
                    errors.awaitMore(seen);
                    h = health.health();
                    assertThat(h.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(h.getDetails()).containsEntry("state", "disconnected")
                            .containsEntry("storeConnected", false).doesNotContainKey("leaseRemainingMillis");
                });
    }

    /** The election's onError reports, in order. */
    static class Errors implements LeadershipListener {
        private final List<String> messages = new ArrayList<>();

        @Override
        public synchronized void onError(String message) {
            messages.add(message);
            notifyAll();
        }

        synchronized int count() {
            return messages.size();
        }

        synchronized String awaitFirst() throws InterruptedException {
            return awaitMore(0);
        }

        /** The first report after the {@code seen} first ones. */
        synchronized String awaitMore(int seen) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (messages.size() <= seen) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new AssertionError("no onError while the store is down");
                }
                wait(left);
            }
            return messages.get(seen);
        }
    }
}
