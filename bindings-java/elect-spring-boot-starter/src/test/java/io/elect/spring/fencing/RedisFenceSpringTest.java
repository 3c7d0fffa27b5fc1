package io.elect.spring.fencing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.elect.fencing.RedisFence;
import io.elect.fencing.StaleTokenException;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.jedis.JedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * RedisFence through Spring Data Redis's {@code StringRedisTemplate}, the one-liner of its
 * Javadoc, against the real Redis of the test run (ELECT_REDIS_URI).
 */
class RedisFenceSpringTest {
    @Test
    void aStaleTokenIsRejectedThroughStringRedisTemplate() {
        String uri = System.getenv("ELECT_REDIS_URI");
        assumeTrue(uri != null && !uri.isEmpty(), "ELECT_REDIS_URI not set");
        URI u = URI.create(uri);
        JedisConnectionFactory factory = new JedisConnectionFactory(
                new RedisStandaloneConfiguration(u.getHost(), u.getPort()));
        factory.afterPropertiesSet();
        factory.start();
        StringRedisTemplate template = new StringRedisTemplate(factory);
        RedisFence.Eval eval = (script, keys, args) ->
                template.execute(RedisScript.of(script, List.class), keys, args.toArray());
        String tag = "{" + UUID.randomUUID() + "}";
        String fence = tag + ":fence";
        String key = tag + ":data";
        try {
            RedisFence.set(eval, fence, 5, key, "a");
            RedisFence.set(eval, fence, 7, key, "b");
            StaleTokenException e = assertThrows(StaleTokenException.class,
                    () -> RedisFence.set(eval, fence, 5, key, "stale"));
            assertEquals(7, e.highest());
            assertEquals("b", template.opsForValue().get(key), "the stale write must not land");
            RedisFence.set(eval, fence, 7, key, "c");
            assertEquals("c", template.opsForValue().get(key));
        } finally {
            template.delete(List.of(fence, key));
            factory.destroy();
        }
    }
}
