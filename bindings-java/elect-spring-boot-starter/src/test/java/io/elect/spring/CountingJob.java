package io.elect.spring;

import java.util.concurrent.atomic.AtomicInteger;

/** A bean with one {@link LeaderOnly} method, which counts the calls that went through. */
class CountingJob {
    private final AtomicInteger runs = new AtomicInteger();

    /** The calls that went through, this one included; 0 when skipped (not leading). */
    @LeaderOnly
    public int run() {
        return runs.incrementAndGet();
    }
}
