package io.elect;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The Java agent of the shared scenarios ({@code tests/scenarios/run.py --agent "java -cp ...
 * io.elect.ScenarioAgent"}): one request per stdin line, one reply per request, and events
 * written as they happen, all on stdout, one flushed line at a time.
 *
 * <pre>
 * requests: open URI NAME | start | observe | is_leader | token | wait_leader MS | resign
 *           | leader | members | close | quit
 * replies:  ok | ok true|false | ok N | ok ID TERM | ok - | ok ID,ID | err CODE MESSAGE
 * events:   event elected TERM | event revoked TERM REASON | event leader ID TERM
 *           | event leader - | event error MESSAGE
 * </pre>
 */
public final class ScenarioAgent implements LeadershipListener {
    private final PrintStream out;
    private LeaderElection election;

    private ScenarioAgent(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        ScenarioAgent agent = new ScenarioAgent(out);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("quit")) {
                break;
            }
            agent.write(agent.handle(line));
        }
        agent.closeElection();
        agent.write("ok");
        out.flush();
        System.exit(0);
    }

    /** Serialized and flushed per line: events come from the dispatcher thread. */
    private synchronized void write(String line) {
        out.print(line.replace('\n', ' ').replace('\r', ' ') + "\n");
        out.flush();
    }

    private String handle(String line) {
        String[] words = line.split(" ");
        try {
            return reply(words);
        } catch (ElectException e) {
            return "err " + e.code().id() + " " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "err internal interrupted";
        } catch (RuntimeException e) {
            return "err internal " + e; // a bug in the agent or the binding
        }
    }

    private static int arguments(String request) {
        return switch (request) {
            case "open" -> 2;
            case "wait_leader" -> 1;
            case "start", "observe", "is_leader", "token", "resign", "leader", "members", "close" -> 0;
            default -> throw new ElectException.InvalidArgument("request `" + request + "`: unknown (expected"
                    + " open, start, observe, is_leader, token, wait_leader, resign, leader, members, close or quit)");
        };
    }

    private String reply(String[] w) throws InterruptedException {
        int expected = arguments(w[0]);
        if (w.length - 1 != expected) {
            throw new ElectException.InvalidArgument("request `" + w[0] + "`: expected " + expected
                    + " argument(s), got " + (w.length - 1));
        }
        if (w[0].equals("open")) {
            if (election != null && !election.isClosed()) {
                throw new ElectException.WrongState("request `open`: an election is open; send `close` first");
            }
            election = LeaderElection.builder(w[1], w[2]).listener(this).build();
            return "ok";
        }
        if (election == null) {
            throw new ElectException.WrongState("request `" + w[0] + "`: no election; send `open <uri> <name>` first");
        }
        return switch (w[0]) {
            case "start" -> { election.start(); yield "ok"; }
            case "observe" -> { election.observe(); yield "ok"; }
            case "is_leader" -> "ok " + election.isLeader();
            case "token" -> "ok " + election.fencingToken().orElse(0);
            case "wait_leader" -> "ok " + waitLeader(w[1]);
            case "resign" -> { election.resign(); yield "ok"; }
            case "leader" -> election.currentLeader()
                    .map(l -> "ok " + l.id() + " " + l.term()).orElse("ok -");
            // `ok ` and nothing after it when there are none, as tests/scenarios/README.md says.
            case "members" -> "ok " + election.members().stream().map(Member::id).collect(Collectors.joining(","));
            default -> { closeElection(); yield "ok"; } // close
        };
    }

    private boolean waitLeader(String millis) throws InterruptedException {
        long ms;
        try {
            ms = Long.parseLong(millis);
        } catch (NumberFormatException e) {
            throw new ElectException.InvalidArgument(
                    "wait_leader: timeout `" + millis + "` is not a whole number of milliseconds");
        }
        if (ms < 0) {
            election.awaitLeadership();
            return true;
        }
        return election.awaitLeadership(Duration.ofMillis(ms));
    }

    private void closeElection() {
        if (election != null) {
            election.close();
        }
    }

    @Override
    public void onElected(long term) {
        write("event elected " + term);
    }

    @Override
    public void onRevoked(long term, RevokeReason reason) {
        write("event revoked " + term + " " + reason.id());
    }

    @Override
    public void onLeaderChanged(Optional<LeaderInfo> leader) {
        write(leader.map(l -> "event leader " + l.id() + " " + l.term()).orElse("event leader -"));
    }

    @Override
    public void onError(String message) {
        write("event error " + message);
    }
}
