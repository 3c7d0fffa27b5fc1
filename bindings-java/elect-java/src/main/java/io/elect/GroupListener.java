package io.elect;

import java.util.Optional;

/**
 * Receives the events of a {@link LeaderGroup}, each with its shard. Calls come one at a time,
 * in order, on a daemon thread the library owns; the rules of {@link LeadershipListener}
 * apply. A shard handed over to another instance arrives as {@code onRevoked} with
 * {@link RevokeReason#CLOSED}.
 */
public interface GroupListener {
    /** This instance now leads {@code shard}, with fencing token {@code term}. */
    default void onElected(int shard, long term) {
    }

    /** This instance's leadership of {@code shard} in {@code term} ended. */
    default void onRevoked(int shard, long term, RevokeReason reason) {
    }

    /** The leader of {@code shard} changed; empty while nobody leads it. */
    default void onLeaderChanged(int shard, Optional<LeaderInfo> leader) {
    }

    /** Something went wrong in {@code shard} that the group recovers from by itself. */
    default void onError(int shard, String message) {
    }
}
