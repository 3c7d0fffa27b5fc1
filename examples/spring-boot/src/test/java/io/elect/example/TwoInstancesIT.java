package io.elect.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of the application, as separate JVMs on one file:// store: the job runs on
 * exactly one; after that one is killed with SIGKILL, it runs on the other, with a higher token.
 *
 * <p>Each instance runs the packaged Spring Boot jar ({@code java -jar}), as it is deployed: the
 * native library is found inside elect-java's jar, nested in the application's jar.
 */
class TwoInstancesIT {
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path store;

    @Test
    void theJobRunsOnExactlyOneInstanceThenOnTheOtherAfterSigkill() throws Exception {
        try (Instance a = new Instance("a", store); Instance b = new Instance("b", store)) {
            Instance first = awaitFirstJob(List.of(a, b));
            Instance other = first == a ? b : a;
            long firstToken = first.lastToken();

            // Both are up and scheduling every 100ms: for a while, only the leader's job works.
            other.awaitLine("STARTED", START);
            int otherJobs = other.jobs();
            Thread.sleep(1500); // a window of ~15 scheduled runs on each instance
            assertEquals(otherJobs, other.jobs(), "the job ran on both instances");
            assertEquals(0, otherJobs, "the job ran on the follower");
            assertTrue(first.jobs() >= 5, "the leader ran its job " + first.jobs() + " times");

            first.kill();
            long killedAt = System.nanoTime();
            other.awaitLine("JOB ", Duration.ofSeconds(15));
            long millis = (System.nanoTime() - killedAt) / 1_000_000;
            assertTrue(other.lastToken() > firstToken, "the new leader has a higher token");
            System.out.println("takeover after SIGKILL: " + millis + " ms");
        }
    }

    private static Instance awaitFirstJob(List<Instance> instances) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            List<Instance> running = instances.stream().filter(i -> i.jobs() > 0).toList();
            assertTrue(running.size() <= 1, "the job ran on both instances");
            if (running.size() == 1) {
                return running.get(0);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the job ran nowhere within " + START);
    }

    /** One JVM running the application's jar, its stdout collected line by line. */
    static final class Instance implements AutoCloseable {
        private final Process process;
        private final List<String> lines = new ArrayList<>();

        Instance(String id, Path store) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String jar = System.getProperty("example.jar");
            if (jar == null) {
                throw new IllegalStateException("example.jar is not set (run through `mvn verify`)");
            }
            process = new ProcessBuilder(java, "-jar", jar,
                    "--elect.uri=file://" + store, "--elect.id=" + id, "--example.interval=100ms")
                    .redirectErrorStream(true)
                    .start();
            Thread reader = new Thread(this::read, "instance-" + id);
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }

        int jobs() {
            synchronized (lines) {
                return (int) lines.stream().filter(l -> l.startsWith("JOB ")).count();
            }
        }

        long lastToken() {
            synchronized (lines) {
                for (int i = lines.size() - 1; i >= 0; i--) {
                    if (lines.get(i).startsWith("JOB ")) {
                        String[] w = lines.get(i).split(" ");
                        return Long.parseLong(w[2]);
                    }
                }
            }
            throw new AssertionError("no job line");
        }

        void awaitLine(String prefix, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (lines) {
                while (lines.stream().noneMatch(l -> l.startsWith(prefix))) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new AssertionError("no `" + prefix + "` line within " + timeout + ":\n"
                                + String.join("\n", lines));
                    }
                    lines.wait(left);
                }
            }
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no resign
            process.waitFor(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy(); // SIGTERM: Spring closes the context, which resigns
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
