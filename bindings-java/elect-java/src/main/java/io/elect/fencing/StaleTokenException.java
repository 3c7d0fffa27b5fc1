package io.elect.fencing;

/**
 * A write was refused: its token is older than the highest the resource has seen. The leader
 * that gets it has lost its term (a newer leader wrote since) and should stop the term's work.
 */
public class StaleTokenException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String resource;
    private final long token;
    private final long highest;

    public StaleTokenException(String resource, long token, long highest) {
        super("stale fencing token " + token + " for '" + resource + "', highest seen " + highest
                + ": a newer leader has written");
        this.resource = resource;
        this.token = token;
        this.highest = highest;
    }

    public String resource() { return resource; }

    public long token() { return token; }

    /** The highest token the resource has seen. */
    public long highest() { return highest; }

    /** {@code token} if it can be a term's token, else an IllegalArgumentException naming it. */
    static long check(long token) {
        if (token <= 0) {
            throw new IllegalArgumentException("fencing token " + token
                    + " is not a term's token (0: the election is not leading; tokens are 1.."
                    + Long.MAX_VALUE + ")");
        }
        return token;
    }
}
