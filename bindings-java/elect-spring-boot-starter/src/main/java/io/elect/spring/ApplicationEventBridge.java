package io.elect.spring;

import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import io.elect.RevokeReason;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Publishes {@link LeadershipGrantedEvent} and {@link LeadershipRevokedEvent}. Event listeners
 * run on the election's event thread, in order; a slow one delays later events, not renewals.
 */
public class ApplicationEventBridge implements LeadershipListener {
    private final ApplicationEventPublisher publisher;
    private final ObjectProvider<LeaderElection> election;

    public ApplicationEventBridge(ApplicationEventPublisher publisher, ObjectProvider<LeaderElection> election) {
        this.publisher = publisher;
        this.election = election;
    }

    @Override
    public void onElected(long term) {
        publisher.publishEvent(new LeadershipGrantedEvent(election.getObject(), term));
    }

    @Override
    public void onRevoked(long term, RevokeReason reason) {
        publisher.publishEvent(new LeadershipRevokedEvent(election.getObject(), term, reason));
    }
}
