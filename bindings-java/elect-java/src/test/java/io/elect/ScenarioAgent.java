package io.elect;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
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
 * requests: open URI NAME | start | observe | is_leader | token | wait_leader MS | resign | proclaim VALUE | hand_over ID
 *           | leader | members | work HOST:PORT INTERVAL_MS LABEL | close | quit
 * replies:  ok | ok true|false | ok N | ok ID TERM | ok - | ok ID,ID | err CODE MESSAGE
 * events:   event elected TERM | event revoked TERM REASON | event leader ID TERM [VALUE]
 *           | event leader - | event error MESSAGE | event member_joined|member_left ID [VALUE]
 *           | event sample true|false TOKEN T0 T1 | event write TOKEN ok|stale|error T0 T1
 * </pre>
 * Times are {@link System#nanoTime()}, which is CLOCK_MONOTONIC on Linux (tests/scenarios/README.md).
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
            case "wait_leader", "proclaim", "hand_over" -> 1;
            case "work" -> 3;
            case "start", "observe", "is_leader", "token", "resign", "leader", "members", "close" -> 0;
            default -> throw new ElectException.InvalidArgument("request `" + request + "`: unknown (expected"
                    + " open, start, observe, is_leader, token, wait_leader, resign, proclaim, hand_over, leader, members, work,"
                    + " close or quit)");
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
            case "proclaim" -> { election.proclaim(w[1]); yield "ok"; }
            case "hand_over" -> { election.handOverTo(w[1]); yield "ok"; }
            case "work" -> startWork(w[1], Long.parseLong(w[2]), w[3]);
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

    /** Starts the fenced-write loop of tests/chaos on a daemon thread. */
    private String startWork(String resource, long millis, String label) {
        LeaderElection e = election;
        int colon = resource.lastIndexOf(':');
        InetSocketAddress address = new InetSocketAddress(resource.substring(0, colon),
                Integer.parseInt(resource.substring(colon + 1)));
        Thread loop = new Thread(() -> work(e, address, millis, label), "chaos-work");
        loop.setDaemon(true);
        loop.start();
        return "ok";
    }

    private void work(LeaderElection e, InetSocketAddress address, long millis, String label) {
        Socket socket = null;
        BufferedReader replies = null;
        Boolean previous = null;
        while (!e.isClosed()) {
            long t0 = System.nanoTime();
            boolean leading = e.isLeader();
            long t1 = System.nanoTime();
            long token = e.fencingToken().orElse(0);
            if (leading || previous == null || previous != leading) {
                write("event sample " + leading + " " + token + " " + t0 + " " + t1);
            }
            previous = leading;
            if (leading && token > 0) {
                long w0 = System.nanoTime();
                String result;
                try {
                    if (socket == null) {
                        socket = new Socket();
                        socket.connect(address, 250); // short: the loop must keep sampling in a partition
                        socket.setSoTimeout(250);
                        replies = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                    }
                    socket.getOutputStream().write(("write " + label + " " + token + "\n").getBytes(StandardCharsets.UTF_8));
                    result = replies.readLine();
                } catch (IOException ex) {
                    result = null;
                }
                if (!"ok".equals(result) && !"stale".equals(result)) {
                    result = "error";
                    try {
                        if (socket != null) socket.close();
                    } catch (IOException ignored) {
                        // the connection is being dropped anyway
                    }
                    socket = null;
                }
                write("event write " + token + " " + result + " " + w0 + " " + System.nanoTime());
            }
            try {
                Thread.sleep(millis);
            } catch (InterruptedException ex) {
                return;
            }
        }
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
    public void onMemberJoined(Member m) {
        write("event member_joined " + m.id() + (m.value().isEmpty() ? "" : " " + m.value()));
    }

    @Override
    public void onMemberLeft(Member m) {
        write("event member_left " + m.id() + (m.value().isEmpty() ? "" : " " + m.value()));
    }

    @Override
    public void onLeaderChanged(Optional<LeaderInfo> leader) {
        write(leader.map(l -> "event leader " + l.id() + " " + l.term() + (l.value().isEmpty() ? "" : " " + l.value()))
                .orElse("event leader -"));
    }

    @Override
    public void onError(String message) {
        write("event error " + message);
    }
}
