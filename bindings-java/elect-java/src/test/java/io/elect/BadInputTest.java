package io.elect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input is rejected with an exception of the right kind that names the bad part. */
class BadInputTest {
    private static void rejects(String expectedPart, Executable build) {
        ElectException.InvalidArgument e = assertThrows(ElectException.InvalidArgument.class, build);
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains(expectedPart),
                "message should name `" + expectedPart + "`: " + e.getMessage());
    }

    private static LeaderElection.Builder file(String name) {
        return LeaderElection.builder(Stores.fileUri(), name);
    }

    @Test
    void unknownScheme() {
        rejects("scheme `bogus`", () -> LeaderElection.builder("bogus://h/x", "n").build());
    }

    @Test
    void notAUri() {
        rejects("scheme://", () -> LeaderElection.builder("just words", "n").build());
    }

    @Test
    void renewNotShorterThanTtl() {
        rejects("renew", () -> file("n").ttl(Duration.ofSeconds(1)).renew(Duration.ofSeconds(2)).build());
    }

    @Test
    void badDurationInTheUri() {
        rejects("ttl", () -> LeaderElection.builder(Stores.with(Stores.fileUri(), "ttl=soon"), "n").build());
    }

    @Test
    void negativeDuration() {
        rejects("retry", () -> file("n").retry(Duration.ofMillis(-5)).build());
    }

    @Test
    void unknownOption() {
        rejects("bogus", () -> file("n").option("bogus", "1").build());
    }

    @Test
    void emptyAndMalformedNames() {
        rejects("name", () -> file("").build());
        rejects("name", () -> file("/leading").build());
        rejects("name", () -> file("a\nb").build());
    }

    @Test
    void nullArguments() {
        rejects("uri", () -> LeaderElection.builder(null, "n").build());
        rejects("name", () -> file(null).build());
        rejects("option `id`", () -> file("n").id(null).build());
    }

    @Test
    void passwordsNeverAppearInMessages() {
        ElectException e = assertThrows(ElectException.class, () ->
                LeaderElection.builder("redis://user:s3cret-pw@127.0.0.1:1/0?nope=1", "n").build());
        assertFalse(e.getMessage().contains("s3cret-pw"), e.getMessage());
        assertFalse(e.toString().contains("s3cret-pw"), e.toString());
    }

    @Test
    void aRustPanicSurfacesAsAnInternalException() {
        ElectException.Internal e =
                assertThrows(ElectException.Internal.class, NativeElection::panicForTests);
        assertTrue(e.getMessage().contains("panic"), e.getMessage());
        // The library is still usable after a caught panic.
        assertFalse(LeaderElection.version().isEmpty());
    }

    @Test
    void everyCodeHasItsOwnExceptionClass() {
        Set<Class<?>> classes = new HashSet<>();
        Set<String> ids = new HashSet<>();
        for (ErrorCode code : ErrorCode.values()) {
            ElectException e = ErrorCode.exceptionFor(code.code(), "m");
            assertTrue(ids.add(code.id()));
            if (code != ErrorCode.OK) {
                assertEquals(code, e.code());
                assertTrue(classes.add(e.getClass()), code + " shares its class");
            }
        }
        assertEquals(ErrorCode.INTERNAL, ErrorCode.exceptionFor(999, "m").code());
    }
}
