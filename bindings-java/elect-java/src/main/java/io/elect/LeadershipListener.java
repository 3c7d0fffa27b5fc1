package io.elect;

import java.util.Optional;

/**
 * Receives the events of one election.
 *
 * <p>Calls come in order, one at a time, on a daemon thread the library owns (one per
 * election), never on the caller's thread and never on the threads that renew the lease: a
 * slow listener delays only later events of its own election. The {@code onRevoked} of a term
 * always comes before the {@code onElected} of a later term. A listener that throws does not
 * stop the election: the exception is logged (logger {@code io.elect}) and every listener
 * receives it as {@link #onError(String)}. Do not block forever in a listener: {@code close()}
 * waits for queued events to be delivered.
 */
public interface LeadershipListener {
    /** This candidate now leads, with fencing token {@code term}. */
    default void onElected(long term) {
    }

    /** This candidate's leadership of {@code term} ended. */
    default void onRevoked(long term, RevokeReason reason) {
    }

    /** The leader changed; empty while nobody leads. Observers receive these too. */
    default void onLeaderChanged(Optional<LeaderInfo> leader) {
    }

    /** Something went wrong that the election recovers from by itself. */
    default void onError(String message) {
    }

    /**
     * A candidate joined the election; every member present when following starts is reported
     * as joined first. Observers receive these too.
     */
    default void onMemberJoined(Member member) {
    }

    /** A candidate left: it closed, or its record expired after a crash. */
    default void onMemberLeft(Member member) {
    }
}
