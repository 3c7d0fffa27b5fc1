package io.elect.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.elect.ElectException;
import io.elect.GroupListener;
import io.elect.LeaderElection;
import io.elect.LeaderGroup;
import io.elect.LeaderInfo;
import io.elect.LeadershipListener;
import io.elect.RevokeReason;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;

class ElectAutoConfigurationTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path store;

    private final String name = "starter-" + UUID.randomUUID().toString().substring(0, 8);

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ElectAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                .withUserConfiguration(EventCollector.class);
    }

    private String uri() {
        return "file://" + store;
    }

    @Test
    void withoutAUriThereIsNoElection() {
        runner().run(context -> assertThat(context).doesNotHaveBean(LeaderElection.class));
    }

    @Test
    void disabledMeansNoElection() {
        runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(LeaderElection.class));
    }

    @Test
    void groupPropertiesMakeAGroupWhoseListenersHearEachShard() {
        runner().withUserConfiguration(ShardCounter.class)
                .withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.id=node-a",
                        "elect.ttl=3s", "elect.group.shards=3")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    LeaderGroup group = context.getBean(LeaderGroup.class);
                    assertThat(group.shards()).isEqualTo(3);
                    // Alone in the group, this instance leads every shard.
                    assertThat(context.getBean(ShardCounter.class).elected.await(WAIT.toMillis(),
                            TimeUnit.MILLISECONDS)).isTrue();
                    assertThat(group.leading()).containsExactly(0, 1, 2);
                });
        runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name)
                .run(context -> assertThat(context).doesNotHaveBean(LeaderGroup.class));
    }

    /** Counts down once per shard elected. */
    @Configuration(proxyBeanMethods = false)
    static class ShardCounter implements GroupListener {
        final CountDownLatch elected = new CountDownLatch(3);

        @Override
        public void onElected(int shard, long term) {
            elected.countDown();
        }
    }

    @Test
    void propertiesConfigureAStartedElectionThatPublishesEvents() {
        runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.id=node-a",
                        "elect.value=http://a:8080", "elect.ttl=3s", "elect.renew=1s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    LeaderElection election = context.getBean(LeaderElection.class);
                    assertThat(election.id()).isEqualTo("node-a");
                    assertThat(election.name()).isEqualTo(name);
                    assertThat(election.awaitLeadership(WAIT)).isTrue(); // started with the context
                    long token = election.fencingToken().orElseThrow();
                    assertThat(election.currentLeader().orElseThrow().value()).isEqualTo("http://a:8080");

                    EventCollector events = context.getBean(EventCollector.class);
                    LeadershipGrantedEvent granted = events.await(LeadershipGrantedEvent.class);
                    assertThat(granted.term()).isEqualTo(token);
                    assertThat(granted.election()).isSameAs(election);
                    OnGrantedEvent onGranted = events.await(OnGrantedEvent.class);
                    assertThat(onGranted.getRole()).isEqualTo(name);
                    assertThat(onGranted.getContext().isLeader()).isTrue();

                    HealthIndicator health = context.getBean("electHealthIndicator", HealthIndicator.class);
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                    assertThat(health.health().getDetails()).containsEntry("leader", true)
                            .containsEntry("fencingToken", token).containsEntry("storeConnected", true);

                    SimpleMeterRegistry registry = new SimpleMeterRegistry();
                    context.getBean(ElectMetrics.class).bindTo(registry);
                    assertThat(registry.get("elect.leader").tag("name", name).gauge().value()).isEqualTo(1.0);
                    assertThat(registry.get("elect.terms.won").functionCounter().count()).isEqualTo(1.0);
                    assertThat(registry.get("elect.lease.remaining").gauge().value()).isGreaterThan(0.0);
                    assertThat(registry.get("elect.revocations").tag("reason", "resigned").functionCounter().count())
                            .isZero();

                    // Spring Integration's yield() resigns.
                    onGranted.getContext().yield();
                    OnRevokedEvent revoked = events.await(OnRevokedEvent.class);
                    assertThat(revoked.getRole()).isEqualTo(name);
                    assertThat(events.await(LeadershipRevokedEvent.class).reason()).isEqualTo(RevokeReason.RESIGNED);
                    assertThat(registry.get("elect.revocations").tag("reason", "resigned").functionCounter().count())
                            .isEqualTo(1.0);
                });
    }

    @Test
    void shutdownResignsSoAnotherInstanceTakesOverAtOnce() throws Exception {
        try (LeaderElection other = LeaderElection.builder(uri(), name).id("other").ttl(Duration.ofSeconds(30)).build()) {
            runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.ttl=30s")
                    .run(context -> {
                        assertThat(context.getBean(LeaderElection.class).awaitLeadership(WAIT)).isTrue();
                        other.start();
                        assertThat(other.awaitLeadership(Duration.ofMillis(300))).isFalse();
                    });
            // The context is closed: with a 30s ttl, only a resign explains a quick takeover.
            assertThat(other.awaitLeadership(Duration.ofSeconds(3))).isTrue();
        }
    }

    @Test
    void metricsCountElectionsWonAndFailovers() throws Exception {
        try (LeaderElection other = LeaderElection.builder(uri(), name).id("other").build()) {
            other.start();
            assertThat(other.awaitLeadership(WAIT)).isTrue();
            runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.id=me")
                    .withUserConfiguration(LeaderChanges.class)
                    .run(context -> {
                        SimpleMeterRegistry registry = new SimpleMeterRegistry();
                        context.getBean(ElectMetrics.class).bindTo(registry);
                        LeaderElection election = context.getBean(LeaderElection.class);
                        assertThat(election.awaitLeadership(Duration.ofMillis(300))).isFalse();
                        assertThat(registry.get("elect.leader").gauge().value()).isEqualTo(0.0);

                        other.close(); // leadership passes from `other` to `me`
                        assertThat(election.awaitLeadership(WAIT)).isTrue();
                        context.getBean(EventCollector.class).await(LeadershipGrantedEvent.class);
                        assertThat(registry.get("elect.leader").gauge().value()).isEqualTo(1.0);
                        assertThat(registry.get("elect.terms.won").functionCounter().count()).isEqualTo(1.0);
                        // The metrics listener runs first, so once this one saw `me`, it did too.
                        context.getBean(LeaderChanges.class).await("me");
                        assertThat(registry.get("elect.failovers").functionCounter().count()).isEqualTo(1.0);
                    });
        }
    }

    @Test
    void invalidPropertiesFailTheContextNamingTheOption() {
        runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.ttl=1s", "elect.renew=2s")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .isInstanceOf(ElectException.InvalidArgument.class).hasMessageContaining("renew");
                });
    }

    @Test
    void theNameDefaultsToTheApplicationName() {
        runner().withPropertyValues("elect.uri=" + uri(), "spring.application.name=" + name, "elect.auto-startup=false")
                .run(context -> assertThat(context.getBean(LeaderElection.class).name()).isEqualTo(name));
    }

    @Test
    void optionalPartsStayOffWithoutTheirLibraries() {
        runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.auto-startup=false")
                .withClassLoader(new FilteredClassLoader(OnGrantedEvent.class, HealthIndicator.class,
                        io.micrometer.core.instrument.MeterRegistry.class))
                .run(context -> {
                    assertThat(context).hasSingleBean(LeaderElection.class);
                    assertThat(context).doesNotHaveBean(IntegrationEventBridge.class);
                    assertThat(context).doesNotHaveBean(ElectHealthIndicator.class);
                    assertThat(context).doesNotHaveBean(ElectMetrics.class);
                });
    }

    @Test
    void leaderOnlyMethodsRunOnlyWhileLeadingAndReceiveTheToken() {
        // A silence keeps the election from winning again right after the resign below.
        runner().withPropertyValues("elect.uri=" + uri(), "elect.name=" + name, "elect.auto-startup=false",
                        "elect.silence=30s")
                .withBean("job", Job.class)
                .run(context -> {
                    Job job = context.getBean(Job.class);
                    assertThat(job.run(-1)).isNull();
                    assertThat(job.count()).isZero(); // primitive return: skipped as 0
                    assertThat(job.calls()).isEmpty();

                    LeaderElection election = context.getBean(LeaderElection.class);
                    election.start();
                    assertThat(election.awaitLeadership(WAIT)).isTrue();
                    long token = election.fencingToken().orElseThrow();
                    assertThat(job.run(-1)).isEqualTo("ran with " + token);
                    assertThat(job.count()).isEqualTo(1);
                    assertThat(job.calls()).containsExactly(token, token);
                    assertThat(CurrentLeadership.fencingToken()).isEmpty(); // only inside the call

                    election.resign();
                    assertThat(job.run(-1)).isNull();
                });
    }

    static class Job {
        private final List<Long> calls = new CopyOnWriteArrayList<>();

        // Through a method: the bean is a CGLIB proxy, whose own fields are empty.
        public List<Long> calls() {
            return calls;
        }

        @LeaderOnly
        public String run(@FencingToken long token) {
            calls.add(token);
            calls.add(CurrentLeadership.fencingToken().orElseThrow());
            return "ran with " + token;
        }

        @LeaderOnly
        public int count() {
            return calls.size() / 2;
        }
    }

    /** Records the leaders the election reports; an ordinary listener bean, called after the starter's. */
    static class LeaderChanges implements LeadershipListener {
        private final List<String> leaders = new ArrayList<>();

        @Override
        public synchronized void onLeaderChanged(Optional<LeaderInfo> leader) {
            leader.ifPresent(l -> leaders.add(l.id()));
            notifyAll();
        }

        synchronized void await(String id) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!leaders.contains(id)) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new AssertionError("no leader change to " + id + "; got " + leaders);
                }
                wait(left);
            }
        }
    }

    /** Collects every leadership-related application event. */
    static class EventCollector implements ApplicationListener<ApplicationEvent> {
        private final List<ApplicationEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void onApplicationEvent(ApplicationEvent event) {
            if (event instanceof LeadershipGrantedEvent || event instanceof LeadershipRevokedEvent
                    || event instanceof AbstractLeaderEvent) {
                synchronized (this) {
                    events.add(event);
                    notifyAll();
                }
            }
        }

        synchronized <T> T await(Class<T> type) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (true) {
                for (ApplicationEvent e : events) {
                    if (type.isInstance(e)) {
                        return type.cast(e);
                    }
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new AssertionError("no " + type.getSimpleName() + " event; got " + events);
                }
                wait(left);
            }
        }
    }
}
