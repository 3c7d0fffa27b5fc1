package io.elect;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Core's log records (leadership changes, store errors, lost connections) into the
 * {@link System.Logger} named {@code io.elect}, and so into SLF4J/Logback wherever the usual
 * bridge is installed (Spring Boot does). Called by the library on its own {@code elect-log}
 * thread, one record at a time.
 *
 * <p>The level filter is applied in the library, before a record is formatted: it delivers from
 * the most verbose level {@code io.elect} had enabled when the library loaded (at least WARNING),
 * or from what {@link LeaderElection#setLogLevel} says.
 */
final class LogBridge {
    static final Logger LOG = System.getLogger("io.elect");
    /** Core's levels 1 (error) .. 5 (trace), at index level - 1. */
    private static final Level[] LEVELS = {Level.ERROR, Level.WARNING, Level.INFO, Level.DEBUG, Level.TRACE};

    private LogBridge() {
    }

    /** The library's level for {@code level}: 1 (error) .. 5 (trace), or 0 for OFF. */
    static int coreLevel(Level level) {
        if (level == Level.OFF) {
            return 0;
        }
        for (int i = LEVELS.length - 1; i >= 0; i--) {
            if (level.getSeverity() <= LEVELS[i].getSeverity()) {
                return i + 1;
            }
        }
        return 1;
    }

    /** The most verbose level {@code io.elect} logs now, never quieter than WARNING. */
    static Level enabledLevel() {
        for (int i = LEVELS.length - 1; i >= 2; i--) {
            if (LOG.isLoggable(LEVELS[i])) {
                return LEVELS[i];
            }
        }
        return Level.WARNING;
    }

    /** One record: the message followed by its fields ({@code election=... id=... term=...}). */
    static void log(int level, String target, String message, String election, String store,
                    String id, long term, String fields) {
        try {
            Level l = LEVELS[Math.max(0, Math.min(LEVELS.length - 1, level - 1))];
            if (LOG.isLoggable(l)) {
                LOG.log(l, fields.isEmpty() ? message : message + " (" + fields + ")");
            }
        } catch (RuntimeException | Error e) {
            // A logger that fails must not break the library's log thread; there is nobody
            // else to tell.
        }
    }
}
