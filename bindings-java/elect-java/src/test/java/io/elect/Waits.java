package io.elect;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/** Waiting on a monitor for something another thread records, with a deadline. */
final class Waits {
    private Waits() {
    }

    /**
     * Waits on {@code lock}, which the caller holds and the recording thread notifies, until
     * {@code find} finds something; fails with {@code describe}'s text after {@code timeout}.
     */
    static <T> T until(Object lock, Duration timeout, Supplier<Optional<T>> find,
            Supplier<String> describe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> found = find.get();
            if (found.isPresent()) {
                return found.get();
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return fail("nothing matched within " + timeout + ": " + describe.get());
            }
            lock.wait(left);
        }
    }
}
