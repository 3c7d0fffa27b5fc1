/* The C agent's group mode (tests/scenarios/README.md, "Groups"), as the Rust agent's
 * cli/src/agent/group.rs: `group <uri> <name> <shards> <cap|->` joins a group of elections and
 * campaigns, `leading` answers `ok <shard>,...`, each event is written as `event shard <i>
 * <event>`, and a sampler thread reads every shard's is_leader and token every millisecond,
 * writing `event shard <i> began <token> <t1_ns>` (end of the first true sample) and
 * `event shard <i> ended <token> <t0_ns>` (start of the last one) on CLOCK_MONOTONIC for each
 * term this process believed in. */
#define _POSIX_C_SOURCE 200809L
#include "agent.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static elect_group *group;
static size_t group_shards;
static pthread_t sampler;
static atomic_bool stopping;

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_group_event(size_t shard, const elect_event *ev, void *user_data) {
    (void)user_data;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "shard %zu ", shard);
    say_event(prefix, ev);
}

/* Per shard: the token believed in (0: none) and the start of its last true sample. */
struct belief {
    uint64_t token;
    uint64_t last;
};

static void *sample(void *arg) {
    (void)arg;
    struct belief *held = calloc(group_shards, sizeof *held);
    const struct timespec every = {0, 1000000};
    for (;;) {
        int stop = atomic_load(&stopping);
        for (size_t shard = 0; held && shard < group_shards; shard++) {
            uint64_t t0 = monotonic_ns();
            int leading = elect_group_is_leader(group, shard);
            uint64_t token = elect_group_fencing_token(group, shard);
            uint64_t t1 = monotonic_ns();
            struct belief *b = &held[shard];
            if (b->token != 0 && leading && b->token == token) {
                b->last = t0;
                continue;
            }
            if (b->token != 0) {
                say("event shard %zu ended %" PRIu64 " %" PRIu64, shard, b->token, b->last);
                b->token = 0;
            }
            if (leading && token > 0) {
                say("event shard %zu began %" PRIu64 " %" PRIu64, shard, token, t1);
                b->token = token;
                b->last = t0;
            }
        }
        if (stop || held == NULL) {
            break;
        }
        nanosleep(&every, NULL);
    }
    /* The group is still open (the handle must outlive this thread): what is held now ends
     * with this last round, before group_close releases it. */
    for (size_t shard = 0; held && shard < group_shards; shard++) {
        if (held[shard].token != 0) {
            say("event shard %zu ended %" PRIu64 " %" PRIu64, shard, held[shard].token, held[shard].last);
        }
    }
    free(held);
    return NULL;
}

void group_open(const char *uri, const char *name, const char *shards, const char *cap) {
    if (group != NULL) {
        say("err wrong_state request `group`: a group is open");
        return;
    }
    if (uri == NULL || name == NULL || shards == NULL || cap == NULL) {
        say("err invalid_argument agent: usage: group <uri> <name> <shards> <cap|->");
        return;
    }
    char *end;
    unsigned long n = strtoul(shards, &end, 10);
    if (*shards == '\0' || *end != '\0') {
        say("err invalid_argument group: shards `%s` is not a whole number", shards);
        return;
    }
    unsigned long c = 0; /* no cap */
    if (strcmp(cap, "-") != 0) {
        c = strtoul(cap, &end, 10);
        if (*cap == '\0' || *end != '\0' || c == 0) {
            say("err invalid_argument group: cap `%s` is not a whole number above 0", cap);
            return;
        }
    }
    elect_status s = elect_group_open(uri, name, n, c, NULL, on_group_event, NULL, &group);
    if (s != ELECT_OK) {
        reply_status(s);
        return;
    }
    group_shards = n;
    atomic_store(&stopping, 0);
    if (pthread_create(&sampler, NULL, sample, NULL) != 0) {
        elect_group_close(group);
        group = NULL;
        say("err internal agent: cannot start the sampler thread");
        return;
    }
    say("ok");
}

void group_leading(void) {
    if (group == NULL) {
        say("err wrong_state request `leading`: no group; send `group <uri> <name> <shards> <cap|->` first");
        return;
    }
    size_t shards[1024];
    size_t n = elect_group_leading(group, shards, sizeof shards / sizeof shards[0]);
    char line[8192] = "ok ";
    size_t used = strlen(line);
    for (size_t i = 0; i < n && i < sizeof shards / sizeof shards[0] && used < sizeof line; i++) {
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%zu", i ? "," : "", shards[i]);
    }
    say("%s", line);
}

/* Stops the sampler (its last round ends the beliefs still held: the leaderships are released
 * only after it, by elect_group_close, which frees the handle the sampler reads), then leaves. */
void group_close(void) {
    if (group == NULL) {
        return;
    }
    atomic_store(&stopping, 1);
    pthread_join(sampler, NULL);
    elect_group_close(group);
    group = NULL;
}
