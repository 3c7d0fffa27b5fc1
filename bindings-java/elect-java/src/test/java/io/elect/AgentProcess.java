package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.elect.testing.LineProcess;

/** A {@link ScenarioAgent} in its own JVM (with {@code -Xcheck:jni}), driven over its pipes. */
final class AgentProcess implements AutoCloseable {
    private final LineProcess process;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final List<String> events = new ArrayList<>();

    AgentProcess(Path stderr) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new LineProcess(new ProcessBuilder(java, "-Xcheck:jni", "-cp",
                System.getProperty("java.class.path"), ScenarioAgent.class.getName())
                .redirectError(stderr.toFile()), "agent-reader", this::take);
    }

    private void take(String line) {
        if (line.startsWith("event ")) {
            synchronized (events) {
                events.add(line.substring(6));
                events.notifyAll();
            }
        } else {
            replies.add(line);
        }
    }

    /** Sends a request and returns its reply line. */
    String request(String line) throws Exception {
        process.send(line);
        String reply = replies.poll(30, TimeUnit.SECONDS);
        assertNotNull(reply, "no reply to `" + line + "`");
        return reply;
    }

    void ok(String line) throws Exception {
        assertEquals("ok", request(line), line);
    }

    /** Waits for an event matching {@code p}. */
    String await(Predicate<String> p, Duration timeout) throws InterruptedException {
        synchronized (events) {
            return Waits.until(events, timeout, () -> events.stream().filter(p).findFirst(),
                    () -> process + " events " + events);
        }
    }

    /** SIGKILL: no resign, no cleanup; the lease must run out. */
    void kill() throws InterruptedException {
        process.kill();
    }

    @Override
    public void close() throws Exception {
        process.close();
    }
}
