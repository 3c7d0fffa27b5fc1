package io.elect;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The object the native library calls for every event of one election, on the election's
 * dispatcher thread. It keeps the state behind the {@code CompletableFuture} methods of
 * {@link LeaderElection}, then calls the listeners.
 *
 * <p>It must not reference its {@code LeaderElection}: the native side holds it through a
 * global reference, and a reference back would keep a forgotten election from its Cleaner.
 */
final class EventSink {
    /** Core's numbers of the event kinds ({@code EventKind}; checked by TablesTest). */
    static final int ELECTED = 1;
    static final int REVOKED = 2;
    static final int LEADER_CHANGED = 3;
    static final int ERROR = 4;
    static final int MEMBER_JOINED = 5;
    static final int MEMBER_LEFT = 6;

    private static final System.Logger LOG = System.getLogger("io.elect");

    private final String election;
    private final List<LeadershipListener> listeners;

    /** Guarded by {@code this}. The term this candidate leads in, per the events; 0 if none. */
    private long term;
    private CompletableFuture<Long> nextElected = new CompletableFuture<>();
    private CompletableFuture<RevokeReason> nextRevoked = new CompletableFuture<>();
    private boolean closed;

    EventSink(String election, List<LeadershipListener> listeners) {
        this.election = election;
        this.listeners = List.copyOf(listeners);
    }

    /**
     * Called by the native library. Every listener gets the event even if an earlier one
     * throws; the first exception is then rethrown to the native side, which clears it, has it
     * logged ({@link #listenerFailed}) and reports it as an {@code Error} event.
     */
    void dispatch(int kind, long term, String a, String b) {
        track(kind, term, a);
        Throwable failure = null;
        for (LeadershipListener listener : listeners) {
            try {
                switch (kind) {
                    case ELECTED -> listener.onElected(term);
                    case REVOKED -> listener.onRevoked(term, RevokeReason.fromId(a));
                    case LEADER_CHANGED -> listener.onLeaderChanged(
                            a == null ? Optional.empty() : Optional.of(new LeaderInfo(a, b, term)));
                    case ERROR -> listener.onError(a);
                    case MEMBER_JOINED -> listener.onMemberJoined(new Member(a, b));
                    case MEMBER_LEFT -> listener.onMemberLeft(new Member(a, b));
                    default -> throw new IllegalArgumentException("unknown event kind " + kind);
                }
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                } else {
                    failure.addSuppressed(t);
                }
            }
        }
        if (failure != null) {
            throw EventSink.<RuntimeException>sneaky(failure);
        }
    }

    /** Called by the native library after it cleared a listener's exception. */
    String listenerFailed(Throwable thrown, String event) {
        String message = "a listener of election `" + election + "` threw " + thrown
                + " while handling " + event;
        LOG.log(System.Logger.Level.WARNING, message, thrown);
        return message.replace('\n', ' ');
    }

    private synchronized void track(int kind, long newTerm, String reason) {
        if (kind == ELECTED) {
            term = newTerm;
            nextElected.complete(newTerm);
            nextElected = new CompletableFuture<>();
        } else if (kind == REVOKED) {
            term = 0;
            nextRevoked.complete(RevokeReason.fromId(reason));
            nextRevoked = new CompletableFuture<>();
        }
    }

    /** Completes now if leading, else at the next {@code Elected}; fails once closed. */
    synchronized CompletableFuture<Long> leadership() {
        if (term != 0) {
            return CompletableFuture.completedFuture(term);
        }
        return closed ? CompletableFuture.failedFuture(closedError()) : nextElected.copy();
    }

    /** Completes at the next {@code Revoked}; fails once closed without one. */
    synchronized CompletableFuture<RevokeReason> revocation() {
        return closed ? CompletableFuture.failedFuture(closedError()) : nextRevoked.copy();
    }

    /** After close: futures nobody can complete any more fail with {@link ElectException.Closed}. */
    synchronized void closed() {
        closed = true;
        term = 0;
        nextElected.completeExceptionally(closedError());
        nextRevoked.completeExceptionally(closedError());
    }

    private ElectException closedError() {
        return new ElectException.Closed("election `" + election + "` is closed");
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
