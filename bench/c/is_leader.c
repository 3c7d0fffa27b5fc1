/* Cost of elect_is_leader() on a leading election, in ns per call: p50/p99 over many batches,
 * from 1 thread and from 2 threads at once (the check is two atomic loads and one read of
 * CLOCK_BOOTTIME, the clock lease deadlines run on, so threads should not slow each other down).
 *
 *   cargo build --release -p elect-ffi
 *   make -C bench/c LIBDIR=$PWD/target/release && bench/c/is_leader [--quick] [URI]
 *
 * Target: under 50 ns per call. The clock_gettime(CLOCK_BOOTTIME) row is the floor; the
 * CLOCK_MONOTONIC row is there to compare (both are vDSO calls). */
#define _POSIX_C_SOURCE 200809L
#include "elect.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 1000

static int batches = 20000;
static elect_election *election;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* No clock: measure elect_is_leader. */
#define NO_CLOCK ((clockid_t)-1)

typedef struct {
    clockid_t clock; /* measure this bare clock instead, as the floor */
    double *per_call;
    long not_leader;
} run;

static void *measure(void *arg) {
    run *r = arg;
    struct timespec scratch;
    for (int b = 0; b < batches; b++) {
        double start = now_ns();
        if (r->clock != NO_CLOCK) {
            for (int i = 0; i < BATCH; i++) {
                clock_gettime(r->clock, &scratch);
            }
        } else {
            long misses = 0;
            for (int i = 0; i < BATCH; i++) {
                misses += !elect_is_leader(election);
            }
            r->not_leader += misses;
        }
        r->per_call[b] = (now_ns() - start) / BATCH;
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs `threads` threads at once and prints one table row from all their batches. */
static int row(const char *what, int threads, clockid_t clock) {
    run runs[2];
    pthread_t ids[2];
    double *all = malloc(sizeof(double) * (size_t)batches * (size_t)threads);
    for (int t = 0; t < threads; t++) {
        runs[t] = (run){.clock = clock, .per_call = all + (size_t)t * (size_t)batches};
        pthread_create(&ids[t], NULL, measure, &runs[t]);
    }
    long not_leader = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        not_leader += runs[t].not_leader;
    }
    size_t n = (size_t)batches * (size_t)threads;
    qsort(all, n, sizeof(double), by_value);
    printf("| %-32s | %7d | %8.1f | %8.1f | %8.1f |\n", what, threads, all[n / 2],
           all[n * 99 / 100], all[n - 1]);
    free(all);
    if (not_leader) {
        fprintf(stderr, "the election stopped leading during the run (%ld calls)\n", not_leader);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *uri = "file:///tmp/elect-bench-is-leader";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            batches = 500;
        } else {
            uri = argv[i];
        }
    }
    if (elect_open(uri, "bench-is-leader", NULL, NULL, &election) != ELECT_OK ||
        elect_start(election) != ELECT_OK || elect_wait_leader(election, 10000) != ELECT_OK) {
        fprintf(stderr, "elect: %s\n", elect_last_error());
        return 1;
    }
    printf("elect_is_leader on a leading election (%s), %d batches of %d calls per thread\n\n",
           uri, batches, BATCH);
    printf("| %-32s | %7s | %8s | %8s | %8s |\n", "ns per call", "threads", "p50", "p99", "max");
    printf("|%s|%s|%s|%s|%s|\n", "----------------------------------", "---------", "----------",
           "----------", "----------");
    int failed = row("clock_gettime(MONOTONIC)", 1, CLOCK_MONOTONIC);
    failed |= row("clock_gettime(BOOTTIME) floor", 1, CLOCK_BOOTTIME);
    failed |= row("elect_is_leader", 1, NO_CLOCK);
    failed |= row("elect_is_leader", 2, NO_CLOCK);
    elect_close(election);
    return failed;
}
