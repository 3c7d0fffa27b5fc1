package io.elect;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The thread behind {@link LeaderElection.Builder#connectInBackground()}: opens the native
 * election, retrying while the store is unreachable, and hands it to the election.
 *
 * <p>Errors that another attempt may cure (unreachable, timeout, a store error) are retried;
 * any other (bad credentials, permission) ends the attempts. The first failure and a final one
 * are logged and reported to the listeners as {@code onError}, the others logged at debug.
 */
final class Connector {
    private static final System.Logger LOG = System.getLogger("io.elect");

    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile ElectException lastError;

    private Connector() {
    }

    static Connector start(LeaderElection election, EventSink sink, long retryMillis, LongSupplier open) {
        Connector c = new Connector();
        Thread t = new Thread(() -> c.run(election, sink, retryMillis, open),
                "elect-connect-" + election.name());
        t.setDaemon(true);
        t.start();
        return c;
    }

    ElectException lastError() {
        return lastError;
    }

    void stop() {
        stopped.countDown();
    }

    private void run(LeaderElection election, EventSink sink, long retryMillis, LongSupplier open) {
        for (int attempt = 1; stopped.getCount() > 0; attempt++) {
            long handle;
            try {
                handle = open.getAsLong();
            } catch (ElectException e) {
                if (!failed(election, sink, retryMillis, attempt, e)) {
                    return;
                }
                try {
                    stopped.await(retryMillis, TimeUnit.MILLISECONDS);
                } catch (InterruptedException interrupted) {
                    return;
                }
                continue;
            }
            if (attempt > 1) {
                LOG.log(System.Logger.Level.INFO, "election `{0}` reached its store after {1} attempts",
                        election.name(), attempt);
            }
            try {
                election.connected(handle);
            } catch (ElectException e) {
                // Connected, but start()/observe() failed: not a reason to connect again.
                lastError = e;
                String message = "election `" + election.name() + "` connected but could not begin: "
                        + e.getMessage();
                LOG.log(System.Logger.Level.ERROR, message);
                report(sink, message);
            }
            return;
        }
    }

    /** Records and reports a failed attempt; whether another one may succeed. */
    private boolean failed(LeaderElection election, EventSink sink, long retryMillis, int attempt,
            ElectException e) {
        lastError = e;
        boolean retry = e instanceof ElectException.Unreachable || e instanceof ElectException.Timeout
                || e instanceof ElectException.Store;
        if (attempt == 1 || !retry) {
            String message = "election `" + election.name() + "` cannot reach its store"
                    + (retry ? " (retrying every " + retryMillis + " ms): " : ", giving up: ") + e.getMessage();
            LOG.log(retry ? System.Logger.Level.WARNING : System.Logger.Level.ERROR, message);
            report(sink, message);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "election `{0}`: attempt {1}: {2}",
                    election.name(), attempt, e.getMessage());
        }
        return retry;
    }

    /** Before connecting there is no dispatcher thread, so this one is the only caller. */
    private static void report(EventSink sink, String message) {
        try {
            sink.dispatch(EventSink.ERROR, 0, message, null);
        } catch (Throwable listenerFailure) {
            sink.listenerFailed(listenerFailure, "onError");
        }
    }
}
