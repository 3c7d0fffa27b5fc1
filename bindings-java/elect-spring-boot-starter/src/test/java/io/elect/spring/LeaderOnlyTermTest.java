package io.elect.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.elect.LeaderElection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code @LeaderOnly} and the term: {@code minLease} skips a run that could not finish before
 * the lease deadline, the job's thread is interrupted when the term ends, and with
 * {@code elect.drain} a resign waits for the running job to return.
 */
class LeaderOnlyTermTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path store;

    private ApplicationContextRunner runner(String... properties) {
        String name = "term-" + UUID.randomUUID().toString().substring(0, 8);
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ElectAutoConfiguration.class, LeaderOnlyAutoConfiguration.class))
                .withBean("job", Job.class)
                .withPropertyValues("elect.uri=file://" + store, "elect.name=" + name, "elect.ttl=2s",
                        "elect.silence=30s")
                .withPropertyValues(properties);
    }

    /** What a test does once its election leads. */
    private interface WhileLeading {
        void run(LeaderElection election, Job job) throws Exception;
    }

    /** Runs {@code body} in a context of {@code runner} once its election leads. */
    private static void whileLeading(ApplicationContextRunner runner, WhileLeading body) {
        runner.run(context -> {
            LeaderElection election = context.getBean(LeaderElection.class);
            assertThat(election.awaitLeadership(WAIT)).isTrue();
            body.run(election, context.getBean(Job.class));
        });
    }

    @Test
    void aRunThatCannotFinishBeforeTheDeadlineIsNotStarted() {
        whileLeading(runner(), (election, job) -> {
            assertThat(job.needsAMinute()).isNull();
            assertThat(job.fitsTheLease()).isEqualTo("ran");
            assertThat(job.runs().get()).isEqualTo(1);
        });
    }

    @Test
    void theJobIsInterruptedWhenTheTermEnds() {
        whileLeading(runner(), (election, job) -> {
            CompletableFuture<Boolean> run = CompletableFuture.supplyAsync(job::blocksUntilInterrupted);
            assertThat(job.started().await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            election.resign();
            assertThat(run.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        });
    }

    @Test
    void withDrainResignWaitsForTheRunningJob() {
        whileLeading(runner("elect.drain=5s"), (election, job) -> {
            CompletableFuture.supplyAsync(job::windsDownAfterInterrupt);
            assertThat(job.started().await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            election.resign();
            assertThat(job.ended().get()).as("resign returned before the job did").isTrue();
        });
    }

    static class Job {
        private final AtomicInteger runs = new AtomicInteger();
        private final CountDownLatch started = new CountDownLatch(1);
        private final AtomicBoolean ended = new AtomicBoolean();

        // Through methods: the bean is a CGLIB proxy, whose own fields are empty.
        public AtomicInteger runs() {
            return runs;
        }

        public CountDownLatch started() {
            return started;
        }

        public AtomicBoolean ended() {
            return ended;
        }

        @LeaderOnly(minLease = "1m")
        public String needsAMinute() {
            runs.incrementAndGet();
            return "ran";
        }

        @LeaderOnly(minLease = "100ms")
        public String fitsTheLease() {
            runs.incrementAndGet();
            return "ran";
        }

        @LeaderOnly
        public Boolean blocksUntilInterrupted() {
            started.countDown();
            try {
                Thread.sleep(WAIT.toMillis());
                return false;
            } catch (InterruptedException e) {
                return true;
            }
        }

        @LeaderOnly
        public Boolean windsDownAfterInterrupt() {
            started.countDown();
            try {
                Thread.sleep(WAIT.toMillis());
            } catch (InterruptedException e) {
                try {
                    Thread.sleep(300); // the wind-down the drain must wait for
                } catch (InterruptedException again) {
                    Thread.currentThread().interrupt();
                }
            }
            ended.set(true);
            return true;
        }
    }
}
