package io.elect.fencing;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The highest token per election for one resource, checked atomically with the requests'
 * work: a token equal to the current one is admitted at once, a newer one only once the older
 * token's requests in flight have left, and a token lower than the newest seen (also while
 * that one waits) is refused. Share one gate between the handlers that write one resource.
 */
public final class FenceGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition drained = lock.newCondition();
    private final Map<String, Fence> fences = new HashMap<>();

    private static final class Fence {
        long current;
        long newest;
        int active;
    }

    /**
     * Admits a request of {@code election} under {@code token}: empty if admitted (call
     * {@link #leave} when it is done), else the newer token that makes it stale.
     */
    public OptionalLong enter(String election, long token) throws InterruptedException {
        StaleTokenException.check(token);
        lock.lock();
        try {
            Fence f = fences.computeIfAbsent(election, k -> new Fence());
            while (true) {
                f.newest = Math.max(f.newest, token);
                if (token < f.newest) {
                    return OptionalLong.of(f.newest);
                }
                if (token == f.current) {
                    f.active++;
                    return OptionalLong.empty();
                }
                if (f.active == 0) {
                    f.current = token;
                    f.active = 1;
                    return OptionalLong.empty();
                }
                drained.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends a request that {@link #enter} admitted. */
    public void leave(String election) {
        locked(() -> {
            if (--fences.get(election).active == 0) {
                drained.signalAll();
            }
            return null;
        });
    }

    /** The highest token seen for {@code election}, 0 before the first. */
    public long highest(String election) {
        return locked(() -> fences.containsKey(election) ? fences.get(election).newest : 0L);
    }

    private <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }
}
