package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * This package's copies of core's tables (event kinds, revoke reasons, options) match core's,
 * read from the native library: a list that drifts from core fails here.
 */
class TablesTest {
    private static List<String[]> rows(String table) {
        NativeLibrary.load();
        return Arrays.stream(NativeElection.tables().split("\n"))
                .map(l -> l.split(" "))
                .filter(r -> r[0].equals(table))
                .collect(Collectors.toList());
    }

    @Test
    void eventKindsAreCoresNumbers() {
        Map<String, Integer> java = new LinkedHashMap<>();
        java.put("elected", EventSink.ELECTED);
        java.put("revoked", EventSink.REVOKED);
        java.put("leader_changed", EventSink.LEADER_CHANGED);
        java.put("error", EventSink.ERROR);
        java.put("member_joined", EventSink.MEMBER_JOINED);
        java.put("member_left", EventSink.MEMBER_LEFT);
        Map<String, Integer> core = new LinkedHashMap<>();
        for (String[] r : rows("event")) {
            core.put(r[2], Integer.parseInt(r[1]));
        }
        assertEquals(core, java);
    }

    @Test
    void revokeReasonsAreCores() {
        List<String> core = rows("reason").stream().map(r -> r[2]).collect(Collectors.toList());
        List<String> java = Arrays.stream(RevokeReason.values()).map(RevokeReason::id)
                .collect(Collectors.toList());
        assertEquals(core, java);
    }

    /** Every option of core has a builder method of its camel-case name. */
    @Test
    void theBuilderSetsEveryOption() {
        List<String> methods = Arrays.stream(LeaderElection.Builder.class.getMethods())
                .map(Method::getName).collect(Collectors.toList());
        List<String[]> options = rows("option");
        assertTrue(options.size() >= 8, "core lists its options");
        for (String[] r : options) {
            String camel = camelCase(r[1]);
            assertTrue(methods.contains(camel), "LeaderElection.Builder lacks option `" + r[1] + "`");
        }
    }

    static String camelCase(String snake) {
        StringBuilder out = new StringBuilder();
        boolean up = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                out.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return out.toString();
    }
}
