package io.elect;

import java.util.function.Function;

/**
 * The error codes of elect-core, numbered there and nowhere else, and the one table that maps
 * each to its {@link ElectException} subclass.
 *
 * <p>The ordinal of each constant is its code. The native library checks at load time that this
 * table names every code of core the same way ({@link #nameOf(int)}, {@link #count()}), so a
 * code added in core without a row here fails {@code System.load}, not some later call.
 */
public enum ErrorCode {
    OK("ok", ElectException.Internal::new),
    INVALID_ARGUMENT("invalid_argument", ElectException.InvalidArgument::new),
    UNREACHABLE("unreachable", ElectException.Unreachable::new),
    AUTH("auth", ElectException.Auth::new),
    TIMEOUT("timeout", ElectException.Timeout::new),
    NOT_LEADER("not_leader", ElectException.NotLeader::new),
    CLOSED("closed", ElectException.Closed::new),
    STORE("store", ElectException.Store::new),
    UNSUPPORTED("unsupported", ElectException.Unsupported::new),
    WRONG_STATE("wrong_state", ElectException.WrongState::new),
    INTERNAL("internal", ElectException.Internal::new),
    PERMISSION("permission", ElectException.Permission::new);

    private static final ErrorCode[] BY_CODE = values();

    private final String id;
    private final Function<String, ElectException> exception;

    ErrorCode(String id, Function<String, ElectException> exception) {
        this.id = id;
        this.exception = exception;
    }

    /** The numeric code, as in core and the C ABI. */
    public int code() {
        return ordinal();
    }

    /** The stable short name, e.g. {@code invalid_argument}, as in logs and scenario files. */
    public String id() {
        return id;
    }

    /** The constant of a numeric code, or {@link #INTERNAL} for a code this table lacks. */
    public static ErrorCode of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : INTERNAL;
    }

    /** Called by the native library to build the exception it throws. */
    static ElectException exceptionFor(int code, String message) {
        return of(code).exception.apply(message);
    }

    /** Called by the native library at load time to compare this table with core's. */
    static String nameOf(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code].id : null;
    }

    /** Called by the native library at load time to compare this table with core's. */
    static int count() {
        return BY_CODE.length;
    }
}
