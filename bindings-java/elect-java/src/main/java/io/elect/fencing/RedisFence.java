package io.elect.fencing;

import java.util.List;

/**
 * A Redis {@code SET} guarded by a fence key, in one Lua script (atomic on the server): a token
 * lower than the fence key's is refused with {@link StaleTokenException} and nothing is
 * written. elect-java brings no Redis client: {@link #set} runs the script through the
 * {@link Eval} of yours, one line for each client.
 *
 * <pre>{@code
 * long token = election.fencingToken().orElseThrow();
 * // Jedis (Jedis, JedisPooled, JedisCluster):
 * RedisFence.set(jedis::eval, "{jobs}:fence", token, "{jobs}:data", value);
 * // Spring Data Redis (StringRedisTemplate):
 * RedisFence.set((script, keys, args) -> template.execute(RedisScript.of(script, List.class), keys, args.toArray()),
 *         "{jobs}:fence", token, "{jobs}:data", value);
 * // Lettuce (RedisCommands<String, String>):
 * RedisFence.set((script, keys, args) -> redis.eval(script, ScriptOutputType.MULTI,
 *         keys.toArray(new String[0]), args.toArray(new String[0])), "{jobs}:fence", token, "{jobs}:data", value);
 * }</pre>
 *
 * In Redis Cluster the fence key and the written key must hash to one slot: give them one hash
 * tag ({@code {jobs}:fence}, {@code {jobs}:data}).
 */
public final class RedisFence {
    /**
     * The script. KEYS: the fence key, the written key. ARGV: the token, the value. Reply
     * {@code {1, token}} when written, {@code {0, highest}} when the token is stale. A copy of
     * {@code fencing/redis-set.lua} in the repository, checked against it by the tests.
     */
    public static final String SET_SCRIPT = """
            local highest = tonumber(redis.call('GET', KEYS[1]) or '0')
            if tonumber(ARGV[1]) < highest then return {0, highest} end
            redis.call('SET', KEYS[1], ARGV[1])
            redis.call('SET', KEYS[2], ARGV[2])
            return {1, tonumber(ARGV[1])}
            """;

    private RedisFence() {
    }

    /** Runs a Lua script by {@code EVAL} on your Redis client: Jedis's {@code eval} is one. */
    @FunctionalInterface
    public interface Eval {
        /** The script's reply: here a list of two integers (any {@link Number}). */
        Object eval(String script, List<String> keys, List<String> args);
    }

    /**
     * {@code SET key value} only if {@code token} is not older than the one in {@code fenceKey};
     * else {@link StaleTokenException} and nothing written.
     */
    public static void set(Eval eval, String fenceKey, long token, String key, String value) {
        StaleTokenException.check(token);
        Object reply = eval.eval(SET_SCRIPT, List.of(fenceKey, key), List.of(Long.toString(token), value));
        if (!(reply instanceof List<?> r) || r.size() != 2 || !(r.get(0) instanceof Number written)
                || !(r.get(1) instanceof Number highest)) {
            throw new IllegalStateException("fenced SET of '" + key + "': unexpected reply " + reply
                    + " (want a list of two integers)");
        }
        if (written.longValue() != 1) {
            throw new StaleTokenException(key, token, highest.longValue());
        }
    }
}
