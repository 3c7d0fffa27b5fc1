package io.elect;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The Java agent's group mode (tests/scenarios/README.md, "Groups"), as the Rust agent's
 * cli/src/agent/group.rs: {@code group URI NAME SHARDS CAP|-} joins a group of elections and
 * campaigns, {@code leading} answers {@code ok SHARD,...}, each event is written as
 * {@code event shard I EVENT}, and a sampler thread reads every shard's {@code isLeader} and
 * token every millisecond, writing {@code event shard I began TOKEN T1} (end of the first true
 * sample) and {@code event shard I ended TOKEN T0} (start of the last one) for each term this
 * process believed in. Times are {@link System#nanoTime()} (CLOCK_MONOTONIC on Linux).
 */
final class ScenarioGroup implements GroupListener {
    private final Consumer<String> write;
    private final LeaderGroup group;
    private final Thread sampler;
    private volatile boolean closed;

    ScenarioGroup(String[] w, Consumer<String> write) {
        this.write = write;
        int shards = number("shards", w[3]);
        int cap = w[4].equals("-") ? 0 : number("cap", w[4]); // 0: no cap
        if (!w[4].equals("-") && cap < 1) {
            throw new ElectException.InvalidArgument("group: cap `" + w[4] + "` is not a whole number above 0");
        }
        group = LeaderGroup.open(w[1], w[2], shards, cap, Map.of(), this);
        sampler = new Thread(() -> sample(shards), "scenario-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    private static int number(String what, String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new ElectException.InvalidArgument("group: " + what + " `" + text + "` is not a whole number");
        }
    }

    String leading() {
        return "ok " + Arrays.stream(group.leading()).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** Closes the group, then waits for the sampler's last {@code ended} lines. */
    void close() throws InterruptedException {
        group.close();
        closed = true;
        sampler.join();
    }

    private void sample(int shards) {
        long[] token = new long[shards]; // 0: no belief
        long[] last = new long[shards]; // start of the last true sample
        while (true) {
            boolean stopping = closed; // one more round after close: every shard then reads false
            for (int shard = 0; shard < shards; shard++) {
                long t0 = System.nanoTime();
                boolean leading = group.isLeader(shard);
                long now = group.fencingToken(shard);
                long t1 = System.nanoTime();
                if (token[shard] != 0 && leading && token[shard] == now) {
                    last[shard] = t0;
                    continue;
                }
                if (token[shard] != 0) {
                    write.accept("event shard " + shard + " ended " + token[shard] + " " + last[shard]);
                    token[shard] = 0;
                }
                if (leading && now > 0) {
                    write.accept("event shard " + shard + " began " + now + " " + t1);
                    token[shard] = now;
                    last[shard] = t0;
                }
            }
            if (stopping) {
                return;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void event(int shard, String body) {
        write.accept("event shard " + shard + " " + body);
    }

    @Override
    public void onElected(int shard, long term) {
        event(shard, "elected " + term);
    }

    @Override
    public void onRevoked(int shard, long term, RevokeReason reason) {
        event(shard, "revoked " + term + " " + reason.id());
    }

    @Override
    public void onLeaderChanged(int shard, Optional<LeaderInfo> leader) {
        event(shard, ScenarioAgent.leaderBody(leader));
    }

    @Override
    public void onError(int shard, String message) {
        event(shard, "error " + message);
    }
}
