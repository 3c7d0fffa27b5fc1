package io.elect.spring;

import java.util.OptionalLong;

/**
 * The fencing token of the leadership a {@link LeaderOnly} method runs under, for methods that
 * cannot take parameters ({@code @Scheduled} ones). Empty outside such a method.
 */
public final class CurrentLeadership {
    private static final ThreadLocal<Long> TOKEN = new ThreadLocal<>();

    private CurrentLeadership() {
    }

    public static OptionalLong fencingToken() {
        Long token = TOKEN.get();
        return token == null ? OptionalLong.empty() : OptionalLong.of(token);
    }

    static Long enter(long token) {
        Long previous = TOKEN.get();
        TOKEN.set(token);
        return previous;
    }

    static void exit(Long previous) {
        if (previous == null) {
            TOKEN.remove();
        } else {
            TOKEN.set(previous);
        }
    }
}
