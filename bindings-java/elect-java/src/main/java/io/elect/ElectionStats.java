package io.elect;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * One election's metrics at one instant ({@link LeaderElection#stats()}): read from atomics in
 * the library, no lock, no store round trip.
 *
 * @param termsWon terms this candidate won
 * @param revocations ended leaderships by reason (every reason present)
 * @param storeErrors store errors the election recovered from
 * @param reconnects times the store answered again after an error
 * @param lastFailover when the leadership last moved to another candidate, as this process saw it
 * @param leaseRemaining how long this leader may still believe it leads; empty when not leading
 * @param storeRoundTrip round trip of the last confirmed renewal; empty before the first
 * @param storeConnected false from a store error until the store answers again
 * @param healthy false when closed, or when still leading past the lease deadline (wedged)
 * @param logRecordsDropped log records the process dropped because its logger was slow
 * @param failovers times the leadership moved from one candidate to another, as this process saw it
 */
public record ElectionStats(long termsWon, Map<RevokeReason, Long> revocations, long storeErrors,
                            long reconnects, Optional<Instant> lastFailover,
                            Optional<Duration> leaseRemaining, Optional<Duration> storeRoundTrip,
                            boolean storeConnected, boolean healthy, long logRecordsDropped,
                            long failovers) {

    /** Reads the library's {@code long[]} (layout in the JNI crate's {@code observe::stats_array}). */
    static ElectionStats fromNative(long[] v) {
        Map<RevokeReason, Long> byReason = new EnumMap<>(RevokeReason.class);
        RevokeReason[] reasons = RevokeReason.values();
        for (int i = 0; i < reasons.length; i++) {
            byReason.put(reasons[i], v[1 + i]);
        }
        int r = 1 + reasons.length; // the values after the revocations
        return new ElectionStats(v[0], Collections.unmodifiableMap(byReason), v[r], v[r + 1],
                v[r + 2] < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v[r + 2])),
                v[r + 3] < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(v[r + 3])),
                v[r + 4] < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(v[r + 4])),
                v[r + 5] != 0, v[r + 6] != 0, v[r + 7], v[r + 8]);
    }

    /** How many leaderships ended for {@code reason}. */
    public long revocations(RevokeReason reason) {
        return revocations.getOrDefault(reason, 0L);
    }
}
