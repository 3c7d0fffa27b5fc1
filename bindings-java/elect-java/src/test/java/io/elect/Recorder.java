package io.elect;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * A listener that records every event as a line ("elected 3", "revoked 3 resigned",
 * "leader ID 3", "leader -", "error MESSAGE"), the threads it ran on, and whether two calls
 * ever overlapped.
 */
final class Recorder implements LeadershipListener {
    private final List<String> events = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean inside = new AtomicBoolean();
    volatile boolean overlapped;

    private void record(String event) {
        if (!inside.compareAndSet(false, true)) {
            overlapped = true;
        }
        try {
            synchronized (this) {
                events.add(event);
                threads.add(Thread.currentThread());
                notifyAll();
            }
        } finally {
            inside.set(false);
        }
    }

    @Override
    public void onElected(long term) {
        record("elected " + term);
    }

    @Override
    public void onRevoked(long term, RevokeReason reason) {
        record("revoked " + term + " " + reason.id());
    }

    @Override
    public void onLeaderChanged(Optional<LeaderInfo> leader) {
        record(leader.map(l -> "leader " + l.id() + " " + l.term()).orElse("leader -"));
    }

    @Override
    public void onError(String message) {
        record("error " + message);
    }

    synchronized List<String> events() {
        return List.copyOf(events);
    }

    /** Events other than leader changes (their count depends on the store's timing). */
    synchronized List<String> ownEvents() {
        return events.stream().filter(e -> !e.startsWith("leader ")).toList();
    }

    synchronized List<Thread> threads() {
        return List.copyOf(threads);
    }

    /** Waits for an event matching {@code p} and returns it. */
    synchronized String await(Predicate<String> p, Duration timeout) throws InterruptedException {
        return Waits.until(this, timeout, () -> events.stream().filter(p).findFirst(),
                () -> "events " + events);
    }

    String await(String prefix, Duration timeout) throws InterruptedException {
        return await(e -> e.startsWith(prefix), timeout);
    }
}
