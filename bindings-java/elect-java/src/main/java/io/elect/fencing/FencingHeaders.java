package io.elect.fencing;

import io.elect.LeaderElection;
import java.util.Map;

/** The two headers of an HTTP request written under a term: the election's name and its token. */
public final class FencingHeaders {
    /** The election whose token the request carries. */
    public static final String ELECTION = "Elect-Election";
    /** The term's fencing token, in decimal. */
    public static final String TOKEN = "Elect-Fencing-Token";

    private FencingHeaders() {
    }

    /** The headers for {@code election}'s current term; IllegalStateException if it is not leading. */
    public static Map<String, String> of(LeaderElection election) {
        long token = election.fencingToken().orElseThrow(() -> new IllegalStateException(
                "election '" + election.name() + "' is not leading: no fencing token to send"));
        return of(election.name(), token);
    }

    /** The headers for term {@code token} of the election named {@code election}. */
    public static Map<String, String> of(String election, long token) {
        if (election == null || election.isEmpty()) {
            throw new IllegalArgumentException("empty election name");
        }
        return Map.of(ELECTION, election, TOKEN, Long.toString(StaleTokenException.check(token)));
    }
}
