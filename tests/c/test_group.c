/* elect_group from C, on the file store: two instances in one process share six shards 3/3
 * (awaited on the callbacks' counts under a condition variable, not slept), the shard led by
 * one is not led by the other and has a token, and when one closes the other leads all six.
 * NULL handles and bad arguments give their status with a message naming the bad part.
 *
 * Usage: test_group            (uses a fresh directory under /tmp, removed at the end) */
#define _GNU_SOURCE
#include "elect.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHARDS 6
#define WAIT_S 15




/* Shards each instance leads, kept by its callback. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int leads[2];
    int bad_shard;
} book;

typedef struct {
    book *b;
    int who;
} instance;

static void on_event(size_t shard, const elect_event *ev, void *user_data) {
    instance *in = user_data;
    pthread_mutex_lock(&in->b->lock);
    if (shard >= SHARDS) {
        in->b->bad_shard = 1;
    }
    if (ev->kind == ELECT_EVENT_ELECTED) {
        in->b->leads[in->who]++;
    } else if (ev->kind == ELECT_EVENT_REVOKED) {
        in->b->leads[in->who]--;
    }
    pthread_cond_broadcast(&in->b->changed);
    pthread_mutex_unlock(&in->b->lock);
}

/* Waits until instance 0 leads `a` shards and instance 1 leads `c` (-1: any number). */
static void wait_leads(book *b, int a, int c) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_S;
    pthread_mutex_lock(&b->lock);
    while (b->leads[0] != a || (c >= 0 && b->leads[1] != c)) {
        int rc = pthread_cond_timedwait(&b->changed, &b->lock, &until);
        CHECK(rc == 0, "waiting for %d/%d, have %d/%d", a, c, b->leads[0], b->leads[1]);
    }
    pthread_mutex_unlock(&b->lock);
}

static elect_group *join(const char *id, instance *in) {
    char uri[512];
    snprintf(uri, sizeof uri, "file://%s?ttl=2s&renew=500ms&id=%s", dir, id);
    elect_group *g = NULL;
    CHECK_OK(elect_group_open(uri, "jobs", SHARDS, 0, NULL, on_event, in, &g));
    return g;
}

static void test_share_and_take_over(void) {
    book b = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    instance ia = {&b, 0}, ib = {&b, 1};
    elect_group *a = join("a", &ia);
    elect_group *c = join("b", &ib);
    wait_leads(&b, 3, 3);
    size_t led[SHARDS];
    size_t n = elect_group_leading(a, led, SHARDS);
    CHECK(n == 3, "a leads %zu shards", n);
    for (size_t i = 0; i < n; i++) {
        CHECK(elect_group_is_leader(a, led[i]) && !elect_group_is_leader(c, led[i]),
              "shard %zu has one leader", led[i]);
        CHECK(elect_group_fencing_token(a, led[i]) > 0, "a token for shard %zu", led[i]);
        CHECK(elect_group_fencing_token(c, led[i]) == 0, "no token for the other");
    }
    CHECK(elect_group_leading(a, NULL, 0) == 3, "counting without room");
    CHECK(!elect_group_is_leader(a, SHARDS), "a shard out of range is not led");
    elect_group_close(c); /* no callback of c runs from here on */
    wait_leads(&b, SHARDS, -1);
    CHECK(elect_group_leading(a, led, SHARDS) == SHARDS, "a leads every shard");
    CHECK(!b.bad_shard, "every event names a shard in range");
    elect_group_close(a);
}

static void test_bad_input(void) {
    elect_group *g = (elect_group *)1;
    char uri[300];
    snprintf(uri, sizeof uri, "file://%s", dir);
    CHECK(elect_group_open(uri, "jobs", 0, 0, NULL, NULL, NULL, &g) == ELECT_ERR_INVALID_ARGUMENT,
          "0 shards");
    CHECK(g == NULL, "*out is NULL on failure");
    CHECK(strstr(elect_last_error(), "shards") != NULL, "the message names shards");
    CHECK(elect_group_open(NULL, "jobs", 2, 0, NULL, NULL, NULL, &g) == ELECT_ERR_INVALID_ARGUMENT,
          "NULL uri");
    CHECK(elect_group_open(uri, "jobs", 2, 0, NULL, NULL, NULL, NULL) == ELECT_ERR_INVALID_ARGUMENT,
          "NULL out");
    CHECK(!elect_group_is_leader(NULL, 0) && elect_group_fencing_token(NULL, 0) == 0 &&
              elect_group_leading(NULL, NULL, 0) == 0,
          "NULL handles");
    elect_group_close(NULL);
}

int main(void) {
    scratch_open("elect-c-group");
    test_bad_input();
    test_share_and_take_over();
    scratch_close("group tests");
    return 0;
}
