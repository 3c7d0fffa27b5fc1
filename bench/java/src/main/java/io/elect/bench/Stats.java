package io.elect.bench;

import java.util.Arrays;

/**
 * The p-th percentile of samples by nearest rank, the one definition of every benchmark of the
 * project (bench/README.md, bench/src/stats.rs): the smallest value such that at least p % of
 * the values are at or below it.
 */
final class Stats {
    private Stats() {
    }

    static long nearestRank(long[] sorted, int p) {
        int rank = (int) Math.ceil(sorted.length * (p / 100.0));
        return sorted[Math.max(1, rank) - 1];
    }

    /** {median, p99} of {@code values} (any order), divided by {@code unit}. */
    static double[] medianP99(long[] values, double unit) {
        long[] v = values.clone();
        Arrays.sort(v);
        return new double[] {nearestRank(v, 50) / unit, nearestRank(v, 99) / unit};
    }
}
