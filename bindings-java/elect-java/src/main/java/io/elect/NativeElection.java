package io.elect;

/**
 * The native methods, all static and all taking the handle a {@link LeaderElection} owns.
 *
 * <p>They are bound with {@code RegisterNatives} in the library's {@code JNI_OnLoad}: a
 * declaration here that does not match the Rust side makes the class fail to initialize, with
 * an {@link UnsatisfiedLinkError} that names the method.
 */
final class NativeElection {
    static {
        NativeLibrary.load();
        setLogLevel(LogBridge.coreLevel(LogBridge.enabledLevel()));
    }

    private NativeElection() {
    }

    /**
     * Validates the arguments of {@link #open} without connecting and returns the candidate's
     * id: the {@code id} option, or the default {@code open} would pick.
     */
    static native String check(String uri, String name, String[] options);

    /** Opens an election; {@code options} are key/value pairs set on the parsed URI. */
    static native long open(String uri, String name, String[] options, EventSink sink);

    static native void start(long handle);

    static native void observe(long handle);

    static native boolean isLeader(long handle);

    /** The fencing token, 0 when not leading. */
    static native long fencingToken(long handle);

    /** Waits up to {@code timeoutMillis} (forever if negative) for leadership. */
    static native boolean waitLeader(long handle, long timeoutMillis);

    static native void resign(long handle);

    /** Publishes a new value for the current term; ElectException.NotLeader when not leading. */
    static native void proclaim(long handle, String value);

    /** Hands the leadership to the member {@code successor}; NotLeader when not leading. */
    static native void handOverTo(long handle, String successor);

    /** Who leads, or null. */
    static native LeaderInfo leader(long handle);

    static native Member[] members(long handle);

    /** Resigns, stops and releases the store connection; the handle stays valid. Idempotent. */
    static native void close(long handle);

    /** Closes if needed and frees the handle; called once, by the Cleaner. */
    static native void free(long handle);

    static native String id(long handle);

    static native String version();

    /**
     * Core's tables this package mirrors, one row a line: {@code option <name> <kind> <default>},
     * {@code event <number> <name>}, {@code reason <number> <name>} (checked by TablesTest).
     */
    static native String tables();

    /** Panics in Rust, to test that a panic surfaces as an exception. */
    static native void panicForTests();

    /** Core's records from {@code minLevel} (1 error .. 5 trace) up go to {@link LogBridge}; 0: none. */
    static native void setLogLevel(int minLevel);

    /** The metrics snapshot, read by {@link ElectionStats#fromNative}. */
    static native long[] stats(long handle);

    /** Milliseconds of lease left, -1 when not leading. */
    static native long leaseRemainingMillis(long handle);

    /** A new term handle if leading with at least {@code minLeaseMillis} left, else 0. */
    static native long termBegin(long handle, long minLeaseMillis);

    static native long termToken(long term);

    /** Milliseconds of lease left to the term, -1 once it is over. */
    static native long termRemainingMillis(long term);

    /** Waits up to {@code timeoutMillis} for the term's cancellation; whether it came. */
    static native boolean termWait(long term, long timeoutMillis);

    static native void termFree(long term);

    /**
     * Joins a group of {@code shards} elections (cap 0: none); shard {@code i}'s events go to
     * {@code sinks[i]}. Returns the handle {@link LeaderGroup} owns.
     */
    static native long groupOpen(String uri, String name, int shards, int cap, String[] options,
            EventSink[] sinks);

    static native boolean groupIsLeader(long handle, int shard);

    /** The shard's fencing token, 0 when not leading it. */
    static native long groupFencingToken(long handle, int shard);

    static native int[] groupLeading(long handle);

    /** Closes if needed and frees the handle; called once. */
    static native void groupFree(long handle);
}
