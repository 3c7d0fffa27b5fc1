package io.elect;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One term of leadership, held by the work done in it ({@link LeaderElection#term()}):
 *
 * <pre>{@code
 * try (Term term = election.term(Duration.ofSeconds(2)).orElse(null)) {
 *     if (term == null) return;                    // not leading, or too little lease left
 *     term.interruptOnCancel();                    // blocking calls end when the term does
 *     for (Batch b : batches) {
 *         if (term.isCancelled()) break;
 *         b.write(term.token());
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #cancellation()} completes the moment the term ends, whatever the reason and before
 * the revoked event is delivered, and, with the {@code drain} option, when {@code resign()} or
 * {@code close()} asks the work to stop: they then wait, never past the lease deadline, until
 * every open {@code Term} of the term is closed before giving up the lease. Thread-safe.
 */
public final class Term implements AutoCloseable {
    /** How long the watcher of a closed term may stay blocked in native code. */
    private static final long WATCH_SLICE_MILLIS = 1000;

    private final long token;
    private final CompletableFuture<Void> cancellation = new CompletableFuture<>();
    private final Object lock = new Object();
    /** The native handle this object holds; 0 once closed. Guarded by {@link #lock}. */
    private long held;
    /** Threads to interrupt at the cancellation. Guarded by {@link #lock}. */
    private final List<Thread> interruptible = new ArrayList<>();
    private volatile boolean closed;

    private Term(long held) {
        this.held = held;
        this.token = NativeElection.termToken(held);
    }

    /** A term of the election behind {@code election}, if leading with the lease asked for. */
    static Optional<Term> begin(long election, long minLeaseMillis, String name) {
        long held = NativeElection.termBegin(election, minLeaseMillis);
        if (held == 0) {
            return Optional.empty();
        }
        Term term = new Term(held);
        // The watcher's own handle, so that close() frees the held one at once while the
        // watcher may still wait in native code; a draining resign cancels the term, which
        // wakes it.
        long watched = NativeElection.termBegin(election, 0);
        if (watched == 0) {
            term.cancel(); // the term ended between the two calls
            return Optional.of(term);
        }
        Thread watcher = new Thread(() -> term.watch(watched), "elect-term-" + name + "-" + term.token);
        watcher.setDaemon(true);
        watcher.start();
        return Optional.of(term);
    }

    private void watch(long watched) {
        try {
            while (!closed) {
                if (NativeElection.termWait(watched, WATCH_SLICE_MILLIS)) {
                    cancel();
                    return;
                }
            }
        } finally {
            NativeElection.termFree(watched);
        }
    }

    private void cancel() {
        synchronized (lock) {
            cancellation.complete(null);
            for (Thread t : interruptible) {
                t.interrupt();
            }
            interruptible.clear();
        }
    }

    /** The fencing token of this term. */
    public long token() {
        return token;
    }

    /** The lease left to this term; empty once it is over or this object is closed. */
    public Optional<Duration> remaining() {
        synchronized (lock) {
            long ms = held == 0 ? -1 : NativeElection.termRemainingMillis(held);
            return ms < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(ms));
        }
    }

    /** Whether the work must stop: the term is over, its deadline passed, or a drain began. */
    public boolean isCancelled() {
        return cancellation.isDone() || remaining().isEmpty();
    }

    /** Completes when the term is cancelled (a copy: completing it changes nothing). */
    public CompletableFuture<Void> cancellation() {
        return cancellation.copy();
    }

    /**
     * Interrupts the calling thread at the cancellation (at once if it already happened), until
     * {@link #close()}. A thread from a pool should clear its interrupt flag after the work.
     */
    public void interruptOnCancel() {
        synchronized (lock) {
            if (cancellation.isDone()) {
                Thread.currentThread().interrupt();
            } else if (!closed) {
                interruptible.add(Thread.currentThread());
            }
        }
    }

    /** Ends this object's part in the term's work (what a draining resign waits for). */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            interruptible.clear();
            if (held != 0) {
                NativeElection.termFree(held);
                held = 0;
            }
        }
    }

    @Override
    public String toString() {
        return "Term[token=" + token + ", cancelled=" + cancellation.isDone() + "]";
    }
}
