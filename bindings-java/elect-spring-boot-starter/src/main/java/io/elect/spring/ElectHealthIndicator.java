package io.elect.spring;

import io.elect.LeaderElection;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * {@code /actuator/health/elect}: UP while the store answers (leading or not), with who leads;
 * DOWN while the store has not been reached yet (state {@code connecting}, with the last
 * error), when the election is closed, or when the store cannot be read.
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
        boolean leading = election.isLeader();
        builder.withDetail("state", "connected").withDetail("leader", leading);
        election.fencingToken().ifPresent(t -> builder.withDetail("fencingToken", t));
        // Reading the leader from the store makes an unreachable store show as DOWN.
        builder.withDetail("currentLeader", election.currentLeader().map(l -> l.id()).orElse("none"));
        builder.up();
    }
}
