package io.elect.spring;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import io.elect.RevokeReason;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;

/**
 * Publishes Spring Integration's {@link OnGrantedEvent} and {@link OnRevokedEvent}, so listeners
 * written for its {@code LeaderInitiator} (and role-based endpoints) keep working on elect.
 */
public class IntegrationEventBridge implements LeadershipListener {
    private final ApplicationEventPublisher publisher;
    private final ObjectProvider<LeaderElection> election;
    private final String role;

    public IntegrationEventBridge(ApplicationEventPublisher publisher,
            ObjectProvider<LeaderElection> election, String role) {
        this.publisher = publisher;
        this.election = election;
        this.role = role;
    }

    @Override
    public void onElected(long term) {
        LeaderElection e = election.getObject();
        publisher.publishEvent(new OnGrantedEvent(e, context(e), role));
    }

    @Override
    public void onRevoked(long term, RevokeReason reason) {
        LeaderElection e = election.getObject();
        publisher.publishEvent(new OnRevokedEvent(e, context(e), role));
    }

    private Context context(LeaderElection e) {
        return new Context() {
            @Override
            public boolean isLeader() {
                return e.isLeader();
            }

            @Override
            public void yield() {
                e.resign();
            }

            @Override
            public String getRole() {
                return role;
            }

            @Override
            public String toString() {
                return "elect context of " + e;
            }
        };
    }
}
