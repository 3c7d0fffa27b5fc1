package io.elect.spring;

import io.elect.LeaderElection;
import io.elect.RevokeReason;
import org.springframework.context.ApplicationEvent;

/** Published when this instance stops being the leader of {@link #term()}. */
public class LeadershipRevokedEvent extends ApplicationEvent {
    private static final long serialVersionUID = 1L;
    private final long term;
    private final RevokeReason reason;

    public LeadershipRevokedEvent(LeaderElection source, long term, RevokeReason reason) {
        super(source);
        this.term = term;
        this.reason = reason;
    }

    public long term() {
        return term;
    }

    public RevokeReason reason() {
        return reason;
    }

    public LeaderElection election() {
        return (LeaderElection) getSource();
    }
}
