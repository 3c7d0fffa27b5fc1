package io.elect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One instance of a group of elections (shards {@code <name>/0} ... {@code <name>/<shards-1>}):
 * the group's live instances share the shards' leaderships evenly and hand them over without a
 * gap as instances come and go (docs/group.md). It campaigns from {@link #open} on. Every method
 * may be called from any thread; {@link #close()} it when done.
 *
 * <pre>{@code
 * try (LeaderGroup g = LeaderGroup.open("etcd://h:2379/app", "ingest", 12, 0, Map.of(), listener)) {
 *     for (int shard : g.leading()) { ... g.fencingToken(shard) ... }
 * }
 * }</pre>
 */
public final class LeaderGroup implements AutoCloseable {
    private final String name;
    private final int shards;
    /** Calls hold it shared; close exclusively, since the handle is freed there. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;

    private LeaderGroup(String name, int shards, long handle) {
        this.name = name;
        this.shards = shards;
        this.handle = handle;
    }

    /**
     * Joins group {@code name} on {@code uri} with {@code shards} elections and campaigns at
     * once. {@code cap} is the most leaderships this instance takes (0: no cap);
     * {@code options} are set like query parameters of the URI ({@code id}, {@code ttl}...).
     *
     * @throws ElectException.InvalidArgument naming the bad part of the URI, an option, or the
     *     number of shards
     * @throws ElectException.Unreachable if the store cannot be reached
     */
    public static LeaderGroup open(String uri, String name, int shards, int cap,
            Map<String, String> options, GroupListener listener) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(options, "options");
        List<String> pairs = new ArrayList<>();
        options.forEach((k, v) -> {
            pairs.add(k);
            pairs.add(v);
        });
        EventSink[] sinks = new EventSink[Math.max(shards, 0)];
        for (int i = 0; i < sinks.length; i++) {
            sinks[i] = new EventSink(name + "/" + i, List.of(forShard(i, listener)));
        }
        long handle = NativeElection.groupOpen(uri, name, shards, cap,
                pairs.toArray(new String[0]), sinks);
        return new LeaderGroup(name, shards, handle);
    }

    /** One shard's events as an election's listener sees them. */
    private static LeadershipListener forShard(int shard, GroupListener l) {
        return new LeadershipListener() {
            @Override
            public void onElected(long term) {
                l.onElected(shard, term);
            }

            @Override
            public void onRevoked(long term, RevokeReason reason) {
                l.onRevoked(shard, term, reason);
            }

            @Override
            public void onLeaderChanged(Optional<LeaderInfo> leader) {
                l.onLeaderChanged(shard, leader);
            }

            @Override
            public void onError(String message) {
                l.onError(shard, message);
            }
        };
    }

    /** Whether this instance leads {@code shard} now (lease deadline checked, no I/O). */
    public boolean isLeader(int shard) {
        lock.readLock().lock();
        try {
            return handle != 0 && NativeElection.groupIsLeader(handle, shard);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The fencing token of this instance's term in {@code shard}, 0 when it does not lead it. */
    public long fencingToken(int shard) {
        lock.readLock().lock();
        try {
            return handle == 0 ? 0 : NativeElection.groupFencingToken(handle, shard);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The shards this instance leads now, in order (empty after close). */
    public int[] leading() {
        lock.readLock().lock();
        try {
            return handle == 0 ? new int[0] : NativeElection.groupLeading(handle);
        } finally {
            lock.readLock().unlock();
        }
    }

    public String name() {
        return name;
    }

    public int shards() {
        return shards;
    }

    /** Leaves every shard (each leadership goes at once to a waiting instance). Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                NativeElection.groupFree(handle);
                handle = 0;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
