package io.elect.bench;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One result as the JSON line scripts/bench collects into bench/RESULTS.md: what was measured,
 * and n, median, p99 and max ({@link Stats#nearestRank}, the one percentile
 * definition) in the unit of its goal.
 */
final class ResultLine {
    private ResultLine() {
    }

    /**
     * @param sorted samples, sorted, in the smallest unit ({@code unit} of them make one ms for a
     *     hand-over, one ns for a leadership check)
     * @param what "graceful failover", "shutdown failover", "SIGKILL failover", or the check's name
     */
    static String of(String lib, String store, String what, long[] sorted, double unit, int ttlMs, int candidates) {
        boolean handover = what.endsWith("failover");
        String u = handover ? "ms" : "ns";
        StringBuilder b = new StringBuilder("{");
        field(b, "goal", handover ? "handover" : "is_leader");
        field(b, "lang", "java");
        field(b, "lib", label(lib));
        field(b, "version", version(lib));
        field(b, "store", store);
        if (handover) {
            field(b, "mode", what.startsWith("graceful") ? "graceful"
                    : what.startsWith("shutdown") ? "shutdown" : "crash");
            b.append(String.format(Locale.ROOT, "\"ttl_s\": %.3f, \"candidates\": %d, ", ttlMs / 1000.0, candidates));
        } else {
            field(b, "what", what);
        }
        b.append(String.format(Locale.ROOT, "\"n\": %d, \"p50_%s\": %.3f, \"p99_%s\": %.3f, \"max_%s\": %.3f}",
                sorted.length, u, Stats.nearestRank(sorted, 50) / unit,
                u, Stats.nearestRank(sorted, 99) / unit, u, sorted[sorted.length - 1] / unit));
        return b.toString();
    }

    private static void field(StringBuilder b, String key, String value) {
        b.append('"').append(key).append("\": \"").append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append("\", ");
    }

    private static String label(String lib) {
        return switch (lib) {
            case "curator" -> "Curator LeaderLatch";
            case "redisson" -> "Redisson RLock";
            case "spring-jdbc" -> "Spring Integration JDBC";
            default -> lib;
        };
    }

    /** The version in the name of the jar a library's class came from (Maven's file name). */
    private static String version(String lib) {
        Class<?> c = switch (lib) {
            case "curator" -> org.apache.curator.framework.recipes.leader.LeaderLatch.class;
            case "redisson" -> org.redisson.Redisson.class;
            case "spring-jdbc" -> org.springframework.integration.support.leader.LockRegistryLeaderInitiator.class;
            default -> io.elect.LeaderElection.class;
        };
        try {
            String file = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).getFileName().toString();
            return file.endsWith(".jar") ? file.replaceAll("^.*?-(\\d[^-]*(-SNAPSHOT)?)\\.jar$", "$1") : "this tree";
        } catch (Exception e) {
            return "?";
        }
    }
}
