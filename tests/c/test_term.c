/* Lease-aware work from C, on the file store: the lease remaining, a term handle whose work
 * sees the cancellation when the leadership ends (awaited with elect_term_wait, not slept), the
 * minimum-lease guard of elect_term_begin, and the `drain` option: elect_resign returns only
 * after the term's work freed its handle.
 *
 * Usage: test_term            (uses a fresh directory under /tmp, removed at the end) */
#define _GNU_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static elect_election *open_leader(const char *name, const char *extra) {
    char uri[512];
    snprintf(uri, sizeof uri, "file://%s?ttl=3s&renew=300ms%s", dir, extra);
    elect_election *e = NULL;
    CHECK_OK(elect_open(uri, name, NULL, NULL, &e));
    CHECK(elect_lease_remaining_ms(e) == -1, "no lease before start");
    CHECK_OK(elect_start(e));
    CHECK_OK(elect_wait_leader(e, WAIT_MS));
    return e;
}

typedef struct {
    elect_term *term;
    elect_status waited;
    int wind_down_ms;
    atomic_int ended;
} work;

/* The term's work: waits for the cancellation, winds down, records that it ended, lets go. */
static void *run_work(void *arg) {
    work *w = arg;
    w->waited = elect_term_wait(w->term, WAIT_MS);
    if (w->wind_down_ms > 0) {
        usleep((useconds_t)w->wind_down_ms * 1000);
    }
    atomic_store(&w->ended, 1);
    elect_term_free(w->term);
    return NULL;
}

static void test_remaining_and_min_lease(void) {
    elect_election *e = open_leader("remaining", "");
    int64_t left = elect_lease_remaining_ms(e);
    CHECK(left > 0 && left <= 3000, "lease remaining %lld ms", (long long)left);
    elect_term *t = NULL;
    elect_status s = elect_term_begin(e, 60000, &t);
    CHECK(s == ELECT_ERR_NOT_LEADER && t == NULL, "a 60 s minimum on a 3 s lease gave %s",
          elect_status_name(s));
    CHECK(strstr(elect_last_error(), "min_lease_ms") != NULL, "message names the minimum");
    CHECK(elect_term_begin(e, -1, &t) == ELECT_ERR_INVALID_ARGUMENT, "negative minimum");
    CHECK_OK(elect_term_begin(e, 100, &t));
    CHECK(elect_term_token(t) == elect_fencing_token(e), "the term's token is the election's");
    CHECK(!elect_term_cancelled(t), "a fresh term is not cancelled");
    CHECK(elect_term_remaining_ms(t) > 0, "the term has lease left");
    CHECK(elect_term_wait(t, 10) == ELECT_ERR_TIMEOUT, "no cancellation yet");
    CHECK_OK(elect_resign(e));
    CHECK(elect_term_cancelled(t), "resign cancels the term");
    CHECK(elect_term_remaining_ms(t) == -1, "no lease left after resign");
    CHECK(elect_lease_remaining_ms(e) == -1, "no lease left after resign");
    elect_term_free(t);
    elect_close(e);
    CHECK(elect_term_cancelled(NULL) && elect_term_token(NULL) == 0, "NULL handles");
    elect_term_free(NULL);
}

static void test_work_sees_the_end_of_the_term(void) {
    elect_election *e = open_leader("cancel", "");
    work w = {.wind_down_ms = 0};
    CHECK_OK(elect_term_begin(e, 0, &w.term));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, run_work, &w) == 0, "pthread_create");
    elect_close(e); /* the term ends (Revoked, closed) while its work waits */
    pthread_join(th, NULL);
    CHECK(w.waited == ELECT_OK, "the work's wait ended with %s", elect_status_name(w.waited));
}

static void test_drain_waits_for_the_work(void) {
    elect_election *e = open_leader("drain", "&drain=5s");
    work w = {.wind_down_ms = 300};
    CHECK_OK(elect_term_begin(e, 0, &w.term));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, run_work, &w) == 0, "pthread_create");
    CHECK_OK(elect_resign(e));
    CHECK(atomic_load(&w.ended), "elect_resign returned before the term's work ended");
    pthread_join(th, NULL);
    CHECK(w.waited == ELECT_OK, "the work saw the drain's cancellation");
    elect_close(e);
}

int main(void) {
    scratch_open("elect-c-term");
    test_remaining_and_min_lease();
    test_work_sees_the_end_of_the_term();
    test_drain_waits_for_the_work();
    scratch_close("term tests");
    return 0;
}
