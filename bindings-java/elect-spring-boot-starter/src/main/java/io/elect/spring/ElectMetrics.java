package io.elect.spring;

import io.elect.ElectException;
import io.elect.ElectionStats;
import io.elect.LeaderElection;
import io.elect.LeadershipListener;
import io.elect.RevokeReason;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Micrometer meters read from the election's metrics snapshot ({@link LeaderElection#stats()},
 * atomic loads in the library: no store round trip per scrape), tagged with the election's
 * name: {@code elect.leader} (1 while this instance leads), the counters {@code elect.terms.won},
 * {@code elect.revocations} (tagged {@code reason}), {@code elect.store.errors},
 * {@code elect.reconnects} and {@code elect.failovers}, and the gauges
 * {@code elect.lease.remaining}, {@code elect.store.rtt} (seconds) and
 * {@code elect.last.failover} (Unix seconds). Before the store is reached the meters read 0.
 */
public class ElectMetrics implements MeterBinder, LeadershipListener {
    private final ObjectProvider<LeaderElection> election;
    private final String name;

    public ElectMetrics(ObjectProvider<LeaderElection> election, String name) {
        this.election = election;
        this.name = name;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Tags tags = Tags.of("name", name);
        Gauge.builder("elect.leader", this, m -> m.leading() ? 1 : 0).tags(tags)
                .description("1 while this instance leads the election").register(registry);
        counter(registry, "elect.terms.won", tags, "terms this instance won", s -> s.termsWon());
        for (RevokeReason reason : RevokeReason.values()) {
            counter(registry, "elect.revocations", tags.and("reason", reason.id()),
                    "leaderships of this instance that ended, by reason", s -> s.revocations(reason));
        }
        counter(registry, "elect.store.errors", tags, "store errors the election recovered from",
                s -> s.storeErrors());
        counter(registry, "elect.reconnects", tags, "times the store answered again after an error",
                s -> s.reconnects());
        counter(registry, "elect.failovers", tags,
                "times the leadership passed from one candidate to another", s -> s.failovers());
        gauge(registry, "elect.lease.remaining", tags,
                "seconds this leader may still believe it leads without a renewal",
                s -> seconds(s.leaseRemaining()));
        gauge(registry, "elect.store.rtt", tags, "round trip of the last confirmed renewal, seconds",
                s -> seconds(s.storeRoundTrip()));
        gauge(registry, "elect.last.failover", tags,
                "when the leadership last passed to another candidate, Unix seconds",
                s -> s.lastFailover().map(t -> t.toEpochMilli() / 1000.0).orElse(0.0));
    }

    private void counter(MeterRegistry registry, String meter, Tags tags, String description,
                         ToDoubleFunction<ElectionStats> read) {
        FunctionCounter.builder(meter, this, m -> m.stats().map(read::applyAsDouble).orElse(0.0))
                .tags(tags).description(description).register(registry);
    }

    private void gauge(MeterRegistry registry, String meter, Tags tags, String description,
                       ToDoubleFunction<ElectionStats> read) {
        Gauge.builder(meter, this, m -> m.stats().map(read::applyAsDouble).orElse(0.0))
                .tags(tags).description(description).register(registry);
    }

    private static double seconds(Optional<Duration> d) {
        return d.map(x -> x.toNanos() / 1e9).orElse(0.0);
    }

    /** The snapshot, empty while the store has not been reached or once closed. */
    private Optional<ElectionStats> stats() {
        LeaderElection e = election.getIfAvailable();
        if (e == null || !e.isConnected() || e.isClosed()) {
            return Optional.empty();
        }
        try {
            return Optional.of(e.stats());
        } catch (ElectException ex) {
            return Optional.empty();
        }
    }

    private boolean leading() {
        LeaderElection e = election.getIfAvailable();
        return e != null && e.isLeader();
    }
}
