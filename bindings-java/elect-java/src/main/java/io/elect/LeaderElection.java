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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

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

    /** The native election; 0 until connected (only while {@link Builder#connectInBackground}). */
    private volatile long handle;
    /** The same, for the Cleaner, whose action must not capture {@code this}. */
    private final AtomicLong cleanable = new AtomicLong();
    private final String name;
    private final String id;
    private final EventSink sink;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Guards the hand-over from the connecting thread: {@link #intent}, close vs. connect. */
    private final Object lock = new Object();
    /** What {@link #start()} or {@link #observe()} asked for before the store was reached. */
    private Intent intent = Intent.NONE;
    /** Counted down once connected or closed. */
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile Connector connector;

    private enum Intent { NONE, START, OBSERVE }

    private LeaderElection(String name, String id, EventSink sink) {
        this.name = name;
        this.id = id;
        this.sink = sink;
        // The action captures only the cell: capturing `this` would keep it reachable forever.
        AtomicLong cell = cleanable;
        CLEANER.register(this, () -> {
            long h = cell.get();
            if (h != 0) {
                NativeElection.free(h);
            }
        });
    }

    /** Takes over an open native election; campaigns or observes if that was asked for. */
    void connected(long h) {
        synchronized (lock) {
            cleanable.set(h);
            handle = h;
            try {
                if (closed.get()) {
                    NativeElection.close(h);
                } else if (intent == Intent.START) {
                    NativeElection.start(h);
                } else if (intent == Intent.OBSERVE) {
                    NativeElection.observe(h);
                }
            } finally {
                ready.countDown();
            }
        }
    }

    /** Whether the store was reached: always after {@link Builder#build()}. */
    public boolean isConnected() {
        return handle != 0;
    }

    /**
     * Why the last attempt to reach the store failed, while {@link Builder#connectInBackground}
     * keeps trying (or gave up on an error that retrying cannot fix); empty once connected.
     */
    public Optional<ElectException> connectionError() {
        Connector c = connector;
        return handle != 0 || c == null ? Optional.empty() : Optional.ofNullable(c.lastError());
    }

    private long handle() {
        long h = handle;
        if (h != 0) {
            return h;
        }
        if (closed.get()) {
            throw new ElectException.Closed("election `" + name + "` is closed");
        }
        ElectException cause = connectionError().orElse(null);
        throw new ElectException.Unreachable("election `" + name + "` has not reached its store yet"
                + (cause == null ? "" : ": " + cause.getMessage()));
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

    /**
     * Begins campaigning in the background; with {@link Builder#connectInBackground}, as soon
     * as the store is reached.
     */
    public void start() {
        if (begin(Intent.START)) {
            return;
        }
        try {
            NativeElection.start(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Follows the leader and the members without campaigning: {@code onLeaderChanged}, {@code onMemberJoined} and {@code onMemberLeft}. */
    public void observe() {
        if (begin(Intent.OBSERVE)) {
            return;
        }
        try {
            NativeElection.observe(handle);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Records {@code wanted} for the connecting thread; false once connected (then call native). */
    private boolean begin(Intent wanted) {
        synchronized (lock) {
            if (handle != 0) {
                return false;
            }
            if (closed.get()) {
                throw new ElectException.Closed("election `" + name + "` is closed");
            }
            if (intent != Intent.NONE) {
                throw new ElectException.WrongState(wanted.name().toLowerCase(java.util.Locale.ROOT)
                        + ": the election is already started or observing");
            }
            intent = wanted;
            return true;
        }
    }

    /** Whether this candidate leads now: no I/O, no lock held across calls; false once closed. */
    public boolean isLeader() {
        try {
            long h = handle;
            return h != 0 && NativeElection.isLeader(h);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The fencing token of the current term; empty when not leading. */
    public OptionalLong fencingToken() {
        try {
            long h = handle;
            long token = h == 0 ? 0 : NativeElection.fencingToken(h);
            return token == 0 ? OptionalLong.empty() : OptionalLong.of(token);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The lease left before this candidate stops believing it leads; empty when not leading.
     * No I/O: check it before starting work that must finish within the term.
     */
    public Optional<Duration> leaseRemaining() {
        try {
            long h = handle;
            long ms = h == 0 ? -1 : NativeElection.leaseRemainingMillis(h);
            return ms < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(ms));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Begins work in the current term: a {@link Term} whose {@link Term#cancellation()}
     * completes the moment the term ends; empty when not leading. Close it when the work ends.
     */
    public Optional<Term> term() {
        return term(Duration.ZERO);
    }

    /**
     * Like {@link #term()}, but empty unless at least {@code minLease} of lease is left, so
     * that work which could not finish before the lease deadline is not started.
     */
    public Optional<Term> term(Duration minLease) {
        Objects.requireNonNull(minLease, "minLease");
        try {
            long h = handle;
            if (h == 0) {
                return Optional.empty();
            }
            return Term.begin(h, minLease.toMillis(), name);
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
        awaitConnected(Long.MAX_VALUE);
        try {
            while (!NativeElection.waitLeader(handle(), WAIT_SLICE_MILLIS)) {
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
        if (!awaitConnected(deadline)) {
            return false;
        }
        try {
            // Slices keep the wait interruptible; leadership itself wakes the native wait at once.
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
                if (NativeElection.waitLeader(handle(), Math.min(left, WAIT_SLICE_MILLIS))) {
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
     * Waits until connected (true) or the {@code System.nanoTime()} deadline passes (false);
     * fails as the native wait would when not started.
     */
    private boolean awaitConnected(long deadline) throws InterruptedException {
        if (handle != 0) {
            return true;
        }
        synchronized (lock) {
            if (handle == 0 && !closed.get() && intent != Intent.START) {
                throw new ElectException.WrongState("awaitLeadership: the election is not started");
            }
        }
        while (handle == 0 && !closed.get()) {
            long left = deadline == Long.MAX_VALUE ? WAIT_SLICE_MILLIS
                    : Math.min(WAIT_SLICE_MILLIS, (deadline - System.nanoTime()) / 1_000_000);
            if (left <= 0) {
                return false;
            }
            ready.await(left, TimeUnit.MILLISECONDS);
        }
        handle(); // closed: ElectException.Closed
        return true;
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
            return Optional.ofNullable(NativeElection.leader(handle()));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * This election's metrics: atomic loads in the library, no store round trip, so fit for
     * every scrape and health probe.
     *
     * @throws ElectException.Unreachable before {@link Builder#connectInBackground} connected
     */
    public ElectionStats stats() {
        try {
            return ElectionStats.fromNative(NativeElection.stats(handle()));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The most verbose level of the library's records that reach the {@link System.Logger}
     * {@code io.elect} (by default the most verbose one it had enabled when the library loaded,
     * at least WARNING); {@link System.Logger.Level#OFF} for none. Records below it are never
     * formatted. Elected, leader changes and resignations are INFO; lost leaderships and store
     * errors WARNING.
     */
    public static void setLogLevel(System.Logger.Level level) {
        NativeElection.setLogLevel(LogBridge.coreLevel(Objects.requireNonNull(level, "level")));
    }

    /** The live candidates of this election, read from the store. */
    public List<Member> members() {
        try {
            return List.of(NativeElection.members(handle()));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Gives up the leadership now (the next candidate is woken by the store) and campaigns
     * again after the {@code silence} option. Returns once the store confirmed. A no-op when
     * not leading (or not yet connected).
     */
    public void resign() {
        long h = handle;
        if (h == 0) {
            if (closed.get()) {
                handle(); // ElectException.Closed, as from the native side
            }
            return;
        }
        try {
            NativeElection.resign(h);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Same as {@link #resign()}, on the common pool. */
    public CompletableFuture<Void> resignAsync() {
        return CompletableFuture.runAsync(this::resign);
    }

    /**
     * Publishes {@code value} as this leader's value without a new election: observers get
     * {@code onLeaderChanged} with the new value and the same term, and later terms of this
     * candidate carry it. The store writes it only while this candidate holds the leadership;
     * otherwise (not leading, term ended, not yet connected) it throws
     * {@link ElectException.NotLeader} and nothing changes.
     */
    public void proclaim(String value) {
        long h = handle;
        if (h == 0) {
            if (closed.get()) {
                handle(); // ElectException.Closed, as from the native side
            }
            throw new ElectException.NotLeader("proclaim: not connected yet, so not leading; nothing was changed");
        }
        try {
            NativeElection.proclaim(h, value);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Hands the leadership to the member {@code successor} (its id) without a gap or an overlap:
     * the term's work is asked to stop (as by {@link #resign()}, with the {@code drain} option),
     * then one store operation gives the leadership up and reserves it for {@code successor},
     * which takes it at once while the other candidates keep waiting (the reservation lapses
     * after one ttl). This candidate gets {@code onRevoked} with {@link RevokeReason#PREEMPTED}
     * and campaigns again after the {@code silence} option. Returns once the store has the
     * leadership back.
     *
     * @throws ElectException.NotLeader when this candidate does not lead (nothing changes)
     * @throws ElectException.InvalidArgument when {@code successor} is not a member as this
     *     candidate last saw them, or is this candidate's own id
     */
    public void handOverTo(String successor) {
        long h = handle;
        if (h == 0) {
            if (closed.get()) {
                handle(); // ElectException.Closed, as from the native side
            }
            throw new ElectException.NotLeader("hand_over_to: not connected yet, so not leading; nothing was changed");
        }
        try {
            NativeElection.handOverTo(h, successor);
        } finally {
            Reference.reachabilityFence(this);
        }
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
            Connector c = connector;
            if (c != null) {
                c.stop();
            }
            synchronized (lock) {
                if (handle != 0) {
                    NativeElection.close(handle);
                }
            }
            ready.countDown();
            sink.closed();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether {@link #close()} was called. */
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

        /**
         * Time subtracted from the lease deadline before this candidate stops believing it
         * leads, covering clock-rate differences and the delay of the renewal that set it
         * (default ttl/10); renew + margin must be shorter than the ttl.
         */
        public Builder margin(Duration margin) {
            return duration("margin", margin);
        }

        /**
         * How long {@link #resign()} and {@link #close()} wait for the term's work (its open
         * {@link Term}s) to end before giving up the lease, never past the lease deadline
         * (default 0: do not wait). The successor then starts after the last write of this one.
         */
        public Builder drain(Duration drain) {
            return duration("drain", drain);
        }

        /**
         * This candidate's priority (default 0; higher is preferred): a leader hands over,
         * without a gap or an overlap, to a candidate of higher priority that has been in the
         * election for one ttl. Equal priorities never preempt.
         */
        public Builder priority(int priority) {
            return option("priority", Integer.toString(priority));
        }

        /**
         * Whether this candidate takes over from a leader of lower priority (default true once a
         * priority is set; false: it waits for its turn).
         */
        public Builder preempt(boolean preempt) {
            return option("preempt", Boolean.toString(preempt));
        }

        /**
         * After this leader is lost without resigning (crash, expiry), the store elects nobody
         * for this long (file, Redis, PostgreSQL and MySQL stores).
         */
        public Builder holdoff(Duration holdoff) {
            return duration("holdoff", holdoff);
        }

        /**
         * After this leader is lost without resigning, the store keeps the leadership for this
         * candidate's id alone for this long (file, Redis, PostgreSQL and MySQL stores).
         */
        public Builder sticky(Duration sticky) {
            return duration("sticky", sticky);
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
            String[] pairs = pairs();
            EventSink sink = new EventSink(name, listeners);
            long handle = NativeElection.open(uri, name, pairs, sink);
            LeaderElection election;
            try {
                election = new LeaderElection(name, NativeElection.id(handle), sink);
            } catch (RuntimeException | Error e) {
                NativeElection.free(handle);
                throw e;
            }
            election.connected(handle);
            return election;
        }

        /**
         * Checks the URI and options, then returns an idle election at once and connects on a
         * thread of its own, retrying every {@code retry} (default 1s) while the store is
         * unreachable, like Curator's {@code LeaderLatch.start()}. Until connected,
         * {@link #start()} is remembered and done on connecting, {@code isLeader()} is false,
         * and {@link LeaderElection#connectionError()} tells why the store is not reached yet.
         * The thread keeps the election reachable until it connects or is closed.
         *
         * @throws ElectException.InvalidArgument naming the bad part of the URI or option
         */
        public LeaderElection connectInBackground() {
            String id = NativeElection.check(uri, name, pairs());
            option("id", id); // the one check() reported, not a fresh default on connecting
            String[] pairs = pairs();
            EventSink sink = new EventSink(name, listeners);
            LeaderElection election = new LeaderElection(name, id, sink);
            election.connector = Connector.start(election, sink, retryMillis(),
                    () -> NativeElection.open(uri, name, pairs, sink));
            return election;
        }

        private String[] pairs() {
            String[] pairs = new String[options.size() * 2];
            int i = 0;
            for (Map.Entry<String, String> option : options.entrySet()) {
                pairs[i++] = option.getKey();
                pairs[i++] = option.getValue();
            }
            return pairs;
        }

        /** The pause between connection attempts: the {@code retry} option, as core parses it. */
        private long retryMillis() {
            String retry = options.get("retry");
            if (retry != null && retry.matches("[0-9]{1,15}ms")) {
                return Long.parseLong(retry.substring(0, retry.length() - 2));
            }
            return 1000;
        }

        private Builder duration(String key, Duration d) {
            Objects.requireNonNull(d, key);
            // Core parses `<n>ms`; a negative value reaches it as such and is rejected by name.
            return option(key, d.toMillis() + "ms");
        }
    }
}
