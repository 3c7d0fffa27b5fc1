package io.elect.example;

import io.elect.LeaderElection;
import io.elect.spring.CurrentLeadership;
import io.elect.spring.LeaderOnly;
import io.elect.spring.LeadershipGrantedEvent;
import io.elect.spring.LeadershipRevokedEvent;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** A job that must run on one instance at a time. */
@Component
public class BillingJob {
    private final LeaderElection election;

    public BillingJob(LeaderElection election) {
        this.election = election;
    }

    /** Runs every interval on every instance, but does its work only on the leader. */
    @Scheduled(fixedDelayString = "${example.interval:200ms}")
    @LeaderOnly
    public void bill() {
        // The token goes with every write, so a store that checks it rejects a stale leader.
        long token = CurrentLeadership.fencingToken().getAsLong();
        System.out.println("JOB " + election.id() + " " + token);
    }

    @EventListener(ApplicationReadyEvent.class)
    public void ready() {
        System.out.println("STARTED " + election.id());
    }

    @EventListener
    public void granted(LeadershipGrantedEvent event) {
        System.out.println("GRANTED " + election.id() + " " + event.term());
    }

    @EventListener
    public void revoked(LeadershipRevokedEvent event) {
        System.out.println("REVOKED " + election.id() + " " + event.term() + " " + event.reason().id());
    }
}
