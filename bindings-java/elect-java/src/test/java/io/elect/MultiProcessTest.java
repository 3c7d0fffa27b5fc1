package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Three JVMs campaign for one election: exactly one leads; after a SIGKILL another takes over
 * within ttl + retry; after a graceful close the last one takes over at once; tokens grow.
 */
class MultiProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Predicate<String> ELECTED = e -> e.startsWith("elected ");

    @TempDir
    Path logs;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void oneLeaderAmongJvmsThenSigkillTakeoverThenGracefulHandover(String store, String base)
            throws Exception {
        String uri = Stores.with(base, "ttl=2s&retry=200ms");
        String name = Stores.uniqueName("jvms");
        List<AgentProcess> agents = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                AgentProcess a = new AgentProcess(logs.resolve("agent" + i + ".err"));
                agents.add(a);
                a.ok("open " + uri + " " + name);
                a.ok("start");
            }
            AgentProcess first = awaitSingleLeader(agents);
            long t1 = token(first);

            long killedAt = System.nanoTime();
            first.kill();
            agents.remove(first);
            AgentProcess second = awaitSingleLeader(agents);
            long crashMillis = (System.nanoTime() - killedAt) / 1_000_000;
            long t2 = token(second);
            assertTrue(t2 > t1, "tokens must grow: " + t1 + " then " + t2);
            assertTrue(crashMillis < 2000 + 200 + 3000, "crash failover took " + crashMillis + " ms");

            long closedAt = System.nanoTime();
            second.ok("close");
            agents.remove(second);
            AgentProcess third = awaitSingleLeader(agents);
            long gracefulMillis = (System.nanoTime() - closedAt) / 1_000_000;
            assertTrue(token(third) > t2);
            assertTrue(gracefulMillis < 1500, "graceful handover took " + gracefulMillis + " ms");
            System.out.printf("%s: crash failover %d ms, graceful %d ms%n", store, crashMillis, gracefulMillis);
        } finally {
            for (AgentProcess a : agents) {
                a.close();
            }
        }
        for (Path log : Files.newDirectoryStream(logs)) {
            String err = Files.readString(log);
            assertTrue(!err.contains("WARNING in native method") && !err.contains("WARNING: JNI local refs")
                    && !err.contains("FATAL ERROR"),
                    log + " shows a JNI problem under -Xcheck:jni:\n" + err);
        }
    }

    /** Waits until one of {@code agents} is elected, and checks that it is the only one. */
    private static AgentProcess awaitSingleLeader(List<AgentProcess> agents) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<AgentProcess> leaders = new ArrayList<>();
            for (AgentProcess a : agents) {
                if (a.request("is_leader").equals("ok true")) {
                    leaders.add(a);
                }
            }
            assertTrue(leaders.size() <= 1, leaders.size() + " processes lead at once");
            if (leaders.size() == 1) {
                AgentProcess leader = leaders.get(0);
                leader.await(ELECTED, WAIT);
                return leader;
            }
            Thread.sleep(20); // polling the agents is the observation itself here
        }
        throw new AssertionError("no leader within " + WAIT);
    }

    private static long token(AgentProcess a) throws Exception {
        String reply = a.request("token");
        assertTrue(reply.startsWith("ok "), reply);
        long token = Long.parseLong(reply.substring(3));
        assertTrue(token > 0);
        assertEquals("ok true", a.request("is_leader"));
        return token;
    }
}
