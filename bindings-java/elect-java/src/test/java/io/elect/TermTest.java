package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Lease-aware work: the lease remaining, a {@link Term} whose cancellation completes (and whose
 * worker is interrupted) when the term ends, the minimum lease, and {@code drain}: resign
 * returns only after the term's work closed its term.
 */
class TermTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static LeaderElection leading(String store, String options) throws InterruptedException {
        LeaderElection e = LeaderElection.builder(Stores.with(store, "ttl=2s&silence=30s" + options),
                Stores.uniqueName("term")).build();
        assertTrue(e.leaseRemaining().isEmpty(), "no lease before leading");
        assertTrue(e.term().isEmpty(), "no term before leading");
        e.start();
        assertTrue(e.awaitLeadership(WAIT));
        return e;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void theRemainingLeaseAndTheMinimum(String store, String uri) throws Exception {
        try (LeaderElection e = leading(uri, "")) {
            Duration left = e.leaseRemaining().orElseThrow();
            assertTrue(!left.isNegative() && left.compareTo(Duration.ofSeconds(2)) <= 0, left.toString());
            assertTrue(e.term(Duration.ofMinutes(1)).isEmpty(), "a minute's run cannot fit a 2 s lease");
            try (Term t = e.term(Duration.ofMillis(100)).orElseThrow()) {
                assertEquals(e.fencingToken().getAsLong(), t.token());
                assertFalse(t.isCancelled());
                assertTrue(t.remaining().isPresent());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void theWorkIsInterruptedWhenTheTermEnds(String store, String uri) throws Exception {
        try (LeaderElection e = leading(uri, "")) {
            Term term = e.term().orElseThrow();
            CompletableFuture<Void> cancelled = term.cancellation();
            CountDownLatch ready = new CountDownLatch(1);
            AtomicBoolean interrupted = new AtomicBoolean();
            Thread worker = new Thread(() -> {
                term.interruptOnCancel();
                ready.countDown();
                try {
                    Thread.sleep(WAIT.toMillis()); // a blocking call the end of the term must end
                } catch (InterruptedException expected) {
                    interrupted.set(true);
                } finally {
                    term.close();
                }
            });
            worker.start();
            assertTrue(ready.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            e.resign();
            cancelled.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            worker.join(WAIT.toMillis());
            assertTrue(interrupted.get(), "the worker was not interrupted");
            assertTrue(term.isCancelled());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void drainWaitsForTheWorkToCloseItsTerm(String store, String uri) throws Exception {
        try (LeaderElection e = leading(uri, "&drain=5s")) {
            Optional<Term> term = e.term();
            AtomicBoolean ended = new AtomicBoolean();
            Thread worker = new Thread(() -> {
                try (Term t = term.orElseThrow()) {
                    t.cancellation().join();
                    Thread.sleep(300); // the wind-down the drain must wait for
                    ended.set(true);
                } catch (InterruptedException unexpected) {
                    Thread.currentThread().interrupt();
                }
            });
            worker.start();
            e.resign();
            assertTrue(ended.get(), "resign gave up the lease before the work closed its term");
            worker.join(WAIT.toMillis());
        }
    }
}
