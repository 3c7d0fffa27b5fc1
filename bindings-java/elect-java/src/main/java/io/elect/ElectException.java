package io.elect;

/**
 * What every elect operation throws; {@link #code()} says which kind, and each kind has its
 * subclass so callers can catch, say, {@link Unreachable} alone. Messages name the offending
 * part of the input and never contain a password.
 */
public class ElectException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public ElectException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return getClass().getName() + " [" + code.id() + "]: " + getMessage();
    }

    /** Malformed URI, unknown option, bad duration, {@code renew >= ttl}, null argument. */
    public static class InvalidArgument extends ElectException {
        private static final long serialVersionUID = 1L;
        public InvalidArgument(String message) { super(ErrorCode.INVALID_ARGUMENT, message); }
    }

    /** The store could not be reached. */
    public static class Unreachable extends ElectException {
        private static final long serialVersionUID = 1L;
        public Unreachable(String message) { super(ErrorCode.UNREACHABLE, message); }
    }

    /** The store refused the credentials or certificate. */
    public static class Auth extends ElectException {
        private static final long serialVersionUID = 1L;
        public Auth(String message) { super(ErrorCode.AUTH, message); }
    }

    /** A wait or a store call ran out of time. */
    public static class Timeout extends ElectException {
        private static final long serialVersionUID = 1L;
        public Timeout(String message) { super(ErrorCode.TIMEOUT, message); }
    }

    /** The operation needs leadership and this candidate does not lead. */
    public static class NotLeader extends ElectException {
        private static final long serialVersionUID = 1L;
        public NotLeader(String message) { super(ErrorCode.NOT_LEADER, message); }
    }

    /** The election was closed. */
    public static class Closed extends ElectException {
        private static final long serialVersionUID = 1L;
        public Closed(String message) { super(ErrorCode.CLOSED, message); }
    }

    /** The store answered with an error that is none of the others. */
    public static class Store extends ElectException {
        private static final long serialVersionUID = 1L;
        public Store(String message) { super(ErrorCode.STORE, message); }
    }

    /** The URI names a store this build of the native library does not include. */
    public static class Unsupported extends ElectException {
        private static final long serialVersionUID = 1L;
        public Unsupported(String message) { super(ErrorCode.UNSUPPORTED, message); }
    }

    /** Not valid in the election's current state, e.g. {@code start()} twice. */
    public static class WrongState extends ElectException {
        private static final long serialVersionUID = 1L;
        public WrongState(String message) { super(ErrorCode.WRONG_STATE, message); }
    }

    /** A bug in elect: a panic caught at the JNI boundary, an unknown error code. */
    public static class Internal extends ElectException {
        private static final long serialVersionUID = 1L;
        public Internal(String message) { super(ErrorCode.INTERNAL, message); }
    }

    /** The store refused an operation for lack of privilege. */
    public static class Permission extends ElectException {
        private static final long serialVersionUID = 1L;
        public Permission(String message) { super(ErrorCode.PERMISSION, message); }
    }
}
