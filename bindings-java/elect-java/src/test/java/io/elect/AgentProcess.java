package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A {@link ScenarioAgent} in its own JVM (with {@code -Xcheck:jni}), driven over its pipes. */
final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final Writer in;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final List<String> events = new ArrayList<>();

    AgentProcess(Path stderr) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(java, "-Xcheck:jni", "-cp", System.getProperty("java.class.path"),
                ScenarioAgent.class.getName())
                .redirectError(stderr.toFile())
                .start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::read, "agent-reader-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("event ")) {
                    synchronized (events) {
                        events.add(line.substring(6));
                        events.notifyAll();
                    }
                } else {
                    replies.add(line);
                }
            }
        } catch (IOException ignored) {
            // the process died: requests time out, awaits fail
        }
    }

    /** Sends a request and returns its reply line. */
    String request(String line) throws Exception {
        in.write(line + "\n");
        in.flush();
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
                    () -> "pid " + process.pid() + " events " + events);
        }
    }

    /** SIGKILL: no resign, no cleanup; the lease must run out. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            try {
                in.write("quit\n");
                in.flush();
            } catch (IOException ignored) {
                // already gone
            }
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
