package io.elect.spring;

import io.elect.LeaderElection;
import io.elect.LeaderInfo;
import io.elect.LeadershipListener;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Micrometer meters, tagged with the election's name:
 * {@code elect.leader} (gauge, 1 while this instance leads), {@code elect.elections.won}
 * (times this instance became leader) and {@code elect.failovers} (times this instance saw the
 * leadership pass from one candidate to another).
 */
public class ElectMetrics implements MeterBinder, LeadershipListener {
    private final ObjectProvider<LeaderElection> election;
    private final String name;
    private final AtomicLong won = new AtomicLong();
    private final AtomicLong failovers = new AtomicLong();
    private volatile String lastLeader;

    public ElectMetrics(ObjectProvider<LeaderElection> election, String name) {
        this.election = election;
        this.name = name;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Tags tags = Tags.of("name", name);
        Gauge.builder("elect.leader", this, m -> m.leading() ? 1 : 0).tags(tags)
                .description("1 while this instance leads the election").register(registry);
        FunctionCounter.builder("elect.elections.won", won, AtomicLong::get).tags(tags)
                .description("times this instance became the leader").register(registry);
        FunctionCounter.builder("elect.failovers", failovers, AtomicLong::get).tags(tags)
                .description("times the leadership passed from one candidate to another").register(registry);
    }

    private boolean leading() {
        LeaderElection e = election.getIfAvailable();
        return e != null && e.isLeader();
    }

    @Override
    public void onElected(long term) {
        won.incrementAndGet();
    }

    @Override
    public void onLeaderChanged(Optional<LeaderInfo> leader) {
        leader.ifPresent(l -> {
            String previous = lastLeader;
            if (previous != null && !previous.equals(l.id())) {
                failovers.incrementAndGet();
            }
            lastLeader = l.id();
        });
    }

    long electionsWon() {
        return won.get();
    }

    long failovers() {
        return failovers.get();
    }
}
