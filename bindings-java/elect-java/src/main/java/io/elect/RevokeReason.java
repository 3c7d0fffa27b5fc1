package io.elect;

/** Why a leadership ended. */
public enum RevokeReason {
    /** {@link LeaderElection#resign()} was called. */
    RESIGNED("resigned"),
    /** The lease deadline passed without a confirmed renewal (paused process, slow store). */
    LEASE_EXPIRED("lease_expired"),
    /** The store says the lease or session is gone, or someone else holds the leadership. */
    SESSION_LOST("session_lost"),
    /** The connection to the store failed; the leader steps down at once. */
    STORE_UNREACHABLE("store_unreachable"),
    /** The election was closed. */
    CLOSED("closed"),
    /**
     * The leader handed the leadership to a named successor: {@link LeaderElection#handOverTo}
     * or a candidate of higher priority (the {@code priority} option).
     */
    PREEMPTED("preempted");

    private final String id;

    RevokeReason(String id) {
        this.id = id;
    }

    /** The name core uses, e.g. {@code lease_expired}. */
    public String id() {
        return id;
    }

    static RevokeReason fromId(String id) {
        for (RevokeReason r : values()) {
            if (r.id.equals(id)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown revoke reason `" + id + "`");
    }
}
