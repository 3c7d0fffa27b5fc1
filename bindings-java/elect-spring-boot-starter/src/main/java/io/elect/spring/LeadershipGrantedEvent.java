package io.elect.spring;

import io.elect.LeaderElection;
import org.springframework.context.ApplicationEvent;

/** Published when this instance becomes the leader; {@link #term()} is its fencing token. */
public class LeadershipGrantedEvent extends ApplicationEvent {
    private static final long serialVersionUID = 1L;
    private final long term;

    public LeadershipGrantedEvent(LeaderElection source, long term) {
        super(source);
        this.term = term;
    }

    public long term() {
        return term;
    }

    public LeaderElection election() {
        return (LeaderElection) getSource();
    }
}
