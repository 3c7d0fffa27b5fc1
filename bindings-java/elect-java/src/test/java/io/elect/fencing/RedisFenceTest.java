package io.elect.fencing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/** The fenced Redis SET through Jedis against the real Redis of the test run (ELECT_REDIS_URI). */
class RedisFenceTest {
    private static Jedis connect() {
        String uri = System.getenv("ELECT_REDIS_URI");
        assumeTrue(uri != null && !uri.isEmpty(), "ELECT_REDIS_URI not set");
        return new Jedis(URI.create(uri));
    }

    @Test
    void aStaleTokenIsRejectedAndDoesNotWrite() {
        String tag = "{" + UUID.randomUUID() + "}";
        String fence = tag + ":fence";
        String key = tag + ":data";
        try (Jedis jedis = connect()) {
            try {
                RedisFence.set(jedis::eval, fence, 5, key, "a");
                RedisFence.set(jedis::eval, fence, 7, key, "b");
                StaleTokenException e = assertThrows(StaleTokenException.class,
                        () -> RedisFence.set(jedis::eval, fence, 5, key, "stale"));
                assertEquals(5, e.token());
                assertEquals(7, e.highest());
                assertEquals(key, e.resource());
                assertEquals("b", jedis.get(key), "the stale write must not land");
                RedisFence.set(jedis::eval, fence, 7, key, "c"); // the same term writes again
                assertThrows(StaleTokenException.class, () -> RedisFence.set(jedis::eval, fence, 6, key, "stale"));
                assertEquals("c", jedis.get(key));
                assertEquals("7", jedis.get(fence));
            } finally {
                jedis.del(fence, key);
            }
        }
    }

    @Test
    void aBadTokenIsRefusedBeforeRedisAndAnOddReplyIsNamed() {
        AtomicBoolean ran = new AtomicBoolean();
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> RedisFence.set((s, k, a) -> { ran.set(true); return null; }, "f", 0, "k", "v"));
        assertTrue(zero.getMessage().contains("not leading"), zero.getMessage());
        assertTrue(!ran.get(), "the script ran for token 0");
        IllegalStateException odd = assertThrows(IllegalStateException.class,
                () -> RedisFence.set((s, k, a) -> "OK", "f", 1, "k", "v"));
        assertTrue(odd.getMessage().contains("unexpected reply OK"), odd.getMessage());
    }

    /** The script is a copy of fencing/redis-set.lua, the one source every language's kit runs. */
    @Test
    void theScriptIsTheRepositorys() throws IOException {
        assertEquals(Files.readString(Path.of("../../fencing/redis-set.lua")), RedisFence.SET_SCRIPT);
    }
}
