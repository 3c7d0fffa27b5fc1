package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The API in one JVM, on the file store and every server store whose URI is set. */
class LeaderElectionTest {
    static final Duration WAIT = Duration.ofSeconds(15);

    private final List<LeaderElection> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(LeaderElection::close);
    }

    private LeaderElection open(String uri, String name, String id, LeadershipListener... listeners) {
        return open(LeaderElection.builder(uri, name), id, listeners);
    }

    private LeaderElection open(LeaderElection.Builder b, String id, LeadershipListener... listeners) {
        b.id(id).value("addr-" + id).ttl(Duration.ofSeconds(3));
        for (LeadershipListener l : listeners) {
            b.listener(l);
        }
        LeaderElection e = b.build();
        opened.add(e);
        return e;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void aLoneCandidateLeadsWithAToken(String store, String uri) throws Exception {
        Recorder r = new Recorder();
        LeaderElection e = open(uri, Stores.uniqueName("lone"), "a", r);
        assertFalse(e.isLeader());
        assertTrue(e.fencingToken().isEmpty());
        e.start();
        assertTrue(e.awaitLeadership(WAIT));
        assertTrue(e.isLeader());
        long token = e.fencingToken().orElseThrow();
        assertTrue(token > 0);
        r.await("elected " + token, WAIT);
        assertEquals(token, e.leadershipFuture().get(1, TimeUnit.SECONDS));
        assertEquals(new LeaderInfo("a", "addr-a", token), e.currentLeader().orElseThrow());
        assertEquals(List.of(new Member("a", "addr-a")), e.members());
        assertEquals("a", e.id());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void resignHandsOverAtOnceWithAHigherToken(String store, String uri) throws Exception {
        String name = Stores.uniqueName("resign");
        Recorder ra = new Recorder();
        // With no silence, the resigner may win its own lock back before b gets to it.
        LeaderElection a = open(LeaderElection.builder(uri, name).silence(Duration.ofSeconds(5)), "a", ra);
        LeaderElection b = open(uri, name, "b");
        a.start();
        assertTrue(a.awaitLeadership(WAIT));
        long first = a.fencingToken().orElseThrow();
        b.start();
        assertFalse(b.awaitLeadership(Duration.ofMillis(300)), "b must wait while a leads");

        long start = System.nanoTime();
        a.resign();
        assertTrue(b.awaitLeadership(WAIT));
        long millis = (System.nanoTime() - start) / 1_000_000;
        // Woken by the store, not by the 3s lease running out.
        assertTrue(millis < 2000, "handover took " + millis + " ms");
        assertFalse(a.isLeader());
        assertTrue(b.fencingToken().orElseThrow() > first);
        ra.await("revoked " + first + " resigned", WAIT);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void eventsArriveInOrderOnDaemonThreadsWithoutOverlap(String store, String uri)
            throws Exception {
        Recorder r = new Recorder();
        LeaderElection e = open(uri, Stores.uniqueName("order"), "a", r);
        e.start();
        long t1 = Long.parseLong(r.await("elected ", WAIT).split(" ")[1]);
        e.resign(); // alone, it campaigns again and wins a new term
        long t2 = Long.parseLong(r.await(ev -> ev.startsWith("elected ") && !ev.equals("elected " + t1), WAIT)
                .split(" ")[1]);
        e.close();
        r.await("revoked " + t2 + " closed", WAIT);

        assertTrue(t2 > t1);
        assertEquals(List.of("elected " + t1, "revoked " + t1 + " resigned", "elected " + t2,
                "revoked " + t2 + " closed"), r.ownEvents());
        // A pool of library threads serves every election: one election's events may arrive on
        // different threads, never the caller's, never two at once.
        assertTrue(r.threads().stream().noneMatch(t -> t == Thread.currentThread()));
        assertTrue(r.threads().stream().allMatch(Thread::isDaemon),
                "a callback thread must not keep the JVM alive");
        assertTrue(r.threads().stream().allMatch(t -> t.getName().equals("elect-events")),
                "callback threads are named elect-events");
        assertFalse(r.overlapped, "listener calls overlapped");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void aThrowingListenerIsReportedAndTheElectionGoesOn(String store, String uri)
            throws Exception {
        LeadershipListener thrower = new LeadershipListener() {
            @Override
            public void onElected(long term) {
                throw new IllegalStateException("boom in onElected");
            }

            @Override
            public void onError(String message) {
                throw new IllegalStateException("boom in onError"); // must not loop
            }
        };
        Recorder r = new Recorder();
        LeaderElection e = open(uri, Stores.uniqueName("throw"), "a", thrower, r);
        e.start();
        String elected = r.await("elected ", WAIT); // later listeners still get the event
        String error = r.await("error ", WAIT);
        assertTrue(error.contains("IllegalStateException") && error.contains("boom in onElected"),
                error);
        assertTrue(error.contains(elected), "the error names the event: " + error);
        assertTrue(e.isLeader(), "the election survives its listener");
        e.resign();
        r.await("revoked ", WAIT); // and events keep coming
        // A listener that also throws on the Error event is logged, not reported again.
        assertTrue(r.events().stream().noneMatch(ev -> ev.contains("boom in onError")),
                "an Error about the Error handler means a loop: " + r.events());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void closeIsIdempotentAndLaterCallsFailClearly(String store, String uri) throws Exception {
        LeaderElection e = open(uri, Stores.uniqueName("closed"), "a");
        e.start();
        assertTrue(e.awaitLeadership(WAIT));
        e.close();
        e.close();
        assertTrue(e.isClosed());
        assertFalse(e.isLeader());
        assertTrue(e.fencingToken().isEmpty());
        assertThrows(ElectException.Closed.class, e::start);
        assertThrows(ElectException.Closed.class, e::resign);
        assertThrows(ElectException.Closed.class, e::currentLeader);
        assertThrows(ElectException.Closed.class, e::members);
        assertThrows(ElectException.Closed.class, () -> e.awaitLeadership(Duration.ofSeconds(1)));
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> e.leadershipFuture().get(1, TimeUnit.SECONDS));
        assertInstanceOf(ElectException.Closed.class, failed.getCause());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void closeFromInsideAListenerDoesNotDeadlock(String store, String uri) throws Exception {
        AtomicReference<LeaderElection> self = new AtomicReference<>();
        Recorder r = new Recorder();
        LeaderElection e = open(uri, Stores.uniqueName("inside"), "a", new LeadershipListener() {
            @Override
            public void onElected(long term) {
                self.get().close();
            }
        }, r);
        self.set(e);
        e.start();
        String elected = r.await("elected ", WAIT);
        r.await("revoked " + elected.split(" ")[1] + " closed", WAIT);
        assertTrue(e.isClosed());
        assertFalse(e.isLeader());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void waitingIsInterruptibleAndForeverWaitsEndWithLeadership(String store, String uri)
            throws Exception {
        String name = Stores.uniqueName("interrupt");
        LeaderElection a = open(uri, name, "a");
        a.start();
        a.awaitLeadership(); // no limit: returns when leading
        assertTrue(a.isLeader());
        assertTrue(a.awaitLeadership(java.time.temporal.ChronoUnit.FOREVER.getDuration()));
        LeaderElection b = open(uri, name, "b");
        b.start();
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                b.awaitLeadership();
                outcome.set(new AssertionError("b led while a did"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        waiter.start();
        Thread.sleep(100); // let it block in the native wait
        waiter.interrupt();
        waiter.join(5000);
        assertFalse(waiter.isAlive(), "an interrupted wait must end");
        assertInstanceOf(InterruptedException.class, outcome.get());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void wrongStatesAreRejected(String store, String uri) {
        LeaderElection e = open(uri, Stores.uniqueName("state"), "a");
        assertThrows(ElectException.WrongState.class, () -> e.awaitLeadership(Duration.ofMillis(10)));
        e.observe();
        assertThrows(ElectException.WrongState.class, e::start);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void anObserverSeesTheLeaderWithoutCampaigning(String store, String uri) throws Exception {
        String name = Stores.uniqueName("observe");
        Recorder seen = new Recorder();
        LeaderElection observer = open(uri, name, "o", seen);
        observer.observe();
        LeaderElection a = open(uri, name, "a");
        a.start();
        assertTrue(a.awaitLeadership(WAIT));
        long token = a.fencingToken().orElseThrow();
        seen.await("leader a " + token, WAIT);
        assertFalse(observer.isLeader());
        assertEquals(List.of("a"), observer.members().stream().map(Member::id).toList());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.elect.Stores#all")
    void aForgottenElectionIsReleasedByTheCleaner(String store, String uri) throws Exception {
        String name = Stores.uniqueName("forgotten");
        startForgottenLeader(uri, name);
        LeaderElection b = open(uri, name, "b");
        b.start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        boolean led = false;
        while (!led && System.nanoTime() < deadline) {
            System.gc();
            led = b.awaitLeadership(Duration.ofMillis(200));
        }
        assertTrue(led, "the Cleaner must close the unreachable leader");
    }

    /** Leaves a leading election behind with no reference to it. */
    private static void startForgottenLeader(String uri, String name) throws InterruptedException {
        LeaderElection a = LeaderElection.builder(uri, name).id("forgotten").build();
        a.start();
        assertTrue(a.awaitLeadership(WAIT));
    }
}
