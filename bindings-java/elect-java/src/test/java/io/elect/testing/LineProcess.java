package io.elect.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A child process driven over its pipes with the agents' line protocol: lines to its stdin, each
 * line of its stdout handed to a consumer on a daemon thread, {@code quit} to end it.
 *
 * <p>Shared by elect-java's tests and bench/java (through elect-java's test jar), so the reader
 * thread and the quit-then-kill close exist once. JDK only: the test jar's users do not get
 * JUnit.
 */
public final class LineProcess implements AutoCloseable {
    private final Process process;
    private final Writer in;

    /**
     * Starts {@code builder}'s process. {@code onLine} runs on the reader thread (named
     * {@code name-<pid>}), once per stdout line, in order, until the process closes its stdout.
     */
    public LineProcess(ProcessBuilder builder, String name, Consumer<String> onLine) throws IOException {
        process = builder.start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> read(onLine), name + "-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    private void read(Consumer<String> onLine) {
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                onLine.accept(line);
            }
        } catch (IOException ignored) {
            // the process ended: its users' waits time out and say so
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Writes one request line; callers serialise their own requests. */
    public synchronized void send(String line) throws IOException {
        in.write(line + "\n");
        in.flush();
    }

    /** SIGKILL: no resign, no cleanup; the lease must run out. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Asks the process to quit, and kills it if it has not ended 15 s later. */
    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            try {
                send("quit");
            } catch (IOException ignored) {
                // gone already
            }
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    @Override
    public String toString() {
        return "pid " + process.pid();
    }
}
