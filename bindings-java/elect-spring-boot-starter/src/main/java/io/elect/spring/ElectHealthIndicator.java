package io.elect.spring;

import io.elect.ElectException;
import io.elect.ElectionStats;
import io.elect.LeaderElection;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * {@code /actuator/health/elect}, from local state only (the election's metrics snapshot: no
 * store round trip per probe): UP while the store answers, with whether this instance leads,
 * its fencing token and remaining lease; DOWN while the store has not been reached yet (state
 * {@code connecting}, with the last error), when the connection to the store is lost (state
 * {@code disconnected}, until it answers again), when the election is closed, or when it still
 * says it leads past its lease deadline (state {@code wedged}).
 */
public class ElectHealthIndicator extends AbstractHealthIndicator {
    private final LeaderElection election;

    public ElectHealthIndicator(LeaderElection election) {
        super("elect health check failed");
        this.election = election;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.withDetail("name", election.name()).withDetail("id", election.id());
        if (election.isClosed()) {
            builder.down().withDetail("state", "closed");
            return;
        }
        if (!election.isConnected()) {
            builder.down().withDetail("state", "connecting").withDetail("leader", false);
            election.connectionError().ifPresent(e -> builder.withDetail("error", e.getMessage()));
            return;
        }
        ElectionStats stats;
        try {
            stats = election.stats();
        } catch (ElectException.Closed e) {
            builder.down().withDetail("state", "closed");
            return;
        }
        boolean leading = election.isLeader();
        builder.withDetail("leader", leading).withDetail("storeConnected", stats.storeConnected())
                .withDetail("storeErrors", stats.storeErrors());
        election.fencingToken().ifPresent(t -> builder.withDetail("fencingToken", t));
        stats.leaseRemaining().ifPresent(d -> builder.withDetail("leaseRemainingMillis", d.toMillis()));
        stats.storeRoundTrip().ifPresent(d -> builder.withDetail("storeRoundTripMicros", d.toNanos() / 1000));
        if (!stats.healthy()) {
            builder.down().withDetail("state", "wedged");
        } else if (!stats.storeConnected()) {
            builder.down().withDetail("state", "disconnected");
        } else {
            builder.up().withDetail("state", "connected");
        }
    }
}
