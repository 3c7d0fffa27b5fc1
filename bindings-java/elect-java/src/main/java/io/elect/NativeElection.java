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
}
