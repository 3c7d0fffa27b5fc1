package io.elect;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One election on one store: campaign for it ({@link #start()}) or follow it
 * ({@link #observe()}).
 *
 * <pre>{@code
 * try (LeaderElection e = LeaderElection.builder("zk://127.0.0.1:2181/app", "billing-cron")
 *         .id("node-a").ttl(Duration.ofSeconds(10)).listener(listener).build()) {
 *     e.start();
 *     if (e.awaitLeadership(Duration.ofSeconds(30))) {
 *         long token = e.fencingToken().orElseThrow(); // hand it to every resource you write
 *     }
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #isLeader()} checks the lease deadline on every call without I/O, so a
 * paused or partitioned leader stops believing it leads before anyone else can be elected.
 * {@link #close()} resigns and releases the store; an election that is never closed is closed
 * by a {@link Cleaner} once it is unreachable, but close it yourself: leadership of a forgotten
 * election lasts until the garbage collector finds it.
 */
public final class LeaderElection implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "elect-cleaner");
        t.setDaemon(true);
        return t;
    });
    private static final long WAIT_SLICE_MILLIS = 200;
    /** Longer than any wait a program means to bound; treated as no limit. */
    private static final Duration FOREVER = Duration.ofDays(365L * 100);

    private final long handle;
    private final String name;
    private final String id;
    private final EventSink sink;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LeaderElection(long handle, String name, EventSink sink) {
        this.handle = handle;
        this.name = name;
        this.sink = sink;
        // The action captures only the handle: capturing `this` would keep it reachable forever.
        CLEANER.register(this, () -> NativeElection.free(handle));
        this.id = NativeElection.id(handle);
    }

    /**
     * Starts building an election named {@code name} on the store of {@code uri}, e.g.
     * {@code file:///var/lib/elect}, {@code etcd://h1:2379/prefix}, {@code zk://h:2181/chroot},
     * {@code redis://h:6379/0} or {@code postgres://user:pass@h:5432/db}; query parameters
     * ({@code ?ttl=10s&renew=3s}) set options as the builder methods do.
     */
    public static Builder builder(String uri, String name) {
        return new Builder(uri, name);
    }

    /** The version of the native library. */
    public static String version() {
        return NativeElection.version();
    }

    /** Begins campaigning in the background. */
    public void start() {
        try {
            NativeElection.start(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Follows the leader without campaigning: only {@code onLeaderChanged} events. */
    public void observe() {
        try {
            NativeElection.observe(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether this candidate leads now: no I/O, no lock held across calls; false once closed. */
    public boolean isLeader() {
        try {
            return NativeElection.isLeader(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The fencing token of the current term; empty when not leading. */
    public OptionalLong fencingToken() {
        try {
            long token = NativeElection.fencingToken(handle);
            return token == 0 ? OptionalLong.empty() : OptionalLong.of(token);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Waits, without a time limit, until this candidate leads.
     *
     * @throws InterruptedException if the thread is interrupted while waiting
     * @throws ElectException.Closed if the election is closed meanwhile
     * @throws ElectException.WrongState if {@link #start()} was not called
     */
    public void awaitLeadership() throws InterruptedException {
        try {
            while (!NativeElection.waitLeader(handle, WAIT_SLICE_MILLIS)) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Waits until this candidate leads ({@code true}) or {@code timeout} passes ({@code false}).
     *
     * @throws InterruptedException if the thread is interrupted while waiting
     * @throws ElectException.Closed if the election is closed meanwhile
     * @throws ElectException.WrongState if {@link #start()} was not called
     */
    public boolean awaitLeadership(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.compareTo(FOREVER) >= 0) {
            awaitLeadership(); // e.g. ChronoUnit.FOREVER, whose nanoseconds overflow a long
            return true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            // Slices keep the wait interruptible; leadership itself wakes the native wait at once.
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
                if (NativeElection.waitLeader(handle, Math.min(left, WAIT_SLICE_MILLIS))) {
                    return true;
                }
                if (left <= WAIT_SLICE_MILLIS) {
                    return false;
                }
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Completes with the fencing token when this candidate leads (at once if it does now, per
     * the events delivered so far); fails with {@link ElectException.Closed} on close.
     */
    public CompletableFuture<Long> leadershipFuture() {
        return sink.leadership();
    }

    /** Completes with the reason when the current or next leadership of this candidate ends. */
    public CompletableFuture<RevokeReason> revocationFuture() {
        return sink.revocation();
    }

    /** Who leads now, read from the store. */
    public Optional<LeaderInfo> currentLeader() {
        try {
            return Optional.ofNullable(NativeElection.leader(handle));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The live candidates of this election, read from the store. */
    public List<Member> members() {
        try {
            return List.of(NativeElection.members(handle));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Gives up the leadership now (the next candidate is woken by the store) and campaigns
     * again after the {@code silence} option. Returns once the store confirmed. A no-op when
     * not leading.
     */
    public void resign() {
        try {
            NativeElection.resign(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Same as {@link #resign()}, on the common pool. */
    public CompletableFuture<Void> resignAsync() {
        return CompletableFuture.runAsync(this::resign);
    }

    /**
     * Resigns, leaves the election and releases the store connection; queued events are
     * delivered first. Idempotent; safe from inside a listener of this election. Every later
     * call fails with {@link ElectException.Closed}, except {@code isLeader()} (false) and
     * {@code fencingToken()} (empty).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            NativeElection.close(handle);
            sink.closed();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** The election's name. */
    public String name() {
        return name;
    }

    /** This candidate's id. */
    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return "LeaderElection[name=" + name + ", id=" + id + ", closed=" + closed.get() + "]";
    }

    /** Options of a new election; each is validated like the URI query parameter of its name. */
    public static final class Builder {
        private final String uri;
        private final String name;
        private final Map<String, String> options = new LinkedHashMap<>();
        private final List<LeadershipListener> listeners = new ArrayList<>();

        private Builder(String uri, String name) {
            this.uri = uri;
            this.name = name;
        }

        /** This candidate's id (default {@code hostname-pid-random}). */
        public Builder id(String id) {
            return option("id", id);
        }

        /** What observers see next to the id, e.g. this instance's address. */
        public Builder value(String value) {
            return option("value", value);
        }

        /** How long the lease lives without renewal (default 10s). */
        public Builder ttl(Duration ttl) {
            return duration("ttl", ttl);
        }

        /** Interval between renewals (default ttl/3); must be shorter than the ttl. */
        public Builder renew(Duration renew) {
            return duration("renew", renew);
        }

        /** Pause between attempts after a store error (default 1s). */
        public Builder retry(Duration retry) {
            return duration("retry", retry);
        }

        /** Pause after losing or resigning before campaigning again (default 0). */
        public Builder silence(Duration silence) {
            return duration("silence", silence);
        }

        /** Limit on connecting to the store (default 5s). */
        public Builder connectTimeout(Duration connectTimeout) {
            return duration("connect_timeout", connectTimeout);
        }

        /** Any option by its URI name, including the store's own (TLS files, table names). */
        public Builder option(String key, String value) {
            options.put(key, value);
            return this;
        }

        /** Adds a listener; listeners are called in the order they were added. */
        public Builder listener(LeadershipListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Connects to the store and returns an idle election.
         *
         * @throws ElectException.InvalidArgument naming the bad part of the URI or option
         * @throws ElectException.Unreachable if the store cannot be reached
         */
        public LeaderElection build() {
            String[] pairs = new String[options.size() * 2];
            int i = 0;
            for (Map.Entry<String, String> option : options.entrySet()) {
                pairs[i++] = option.getKey();
                pairs[i++] = option.getValue();
            }
            EventSink sink = new EventSink(name, listeners);
            long handle = NativeElection.open(uri, name, pairs, sink);
            return new LeaderElection(handle, name, sink);
        }

        private Builder duration(String key, Duration d) {
            Objects.requireNonNull(d, key);
            // Core parses `<n>ms`; a negative value reaches it as such and is rejected by name.
            return option(key, d.toMillis() + "ms");
        }
    }
}
