/* The library's log records and metrics in C, with a store fault: a private Redis server
 * (started with scripts/servers/redis) is killed (SIGKILL) under a leader, and the logger set
 * with elect_set_logger must receive WARN records naming the election and the term, while
 * elect_stats counts the revocation and the store error.
 *
 * Usage: observe_redis SCRIPT   (SCRIPT is scripts/servers/redis; ELECT_RUN_DIR is honoured)
 *
 * Every wait is bounded (a condition variable with a deadline); the server is stopped on every
 * exit path after it started. */
#define _GNU_SOURCE
#include "elect.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 20
#define MAX_RECORDS 256
#define INSTANCE "observe-c"
/* As `term` of await_record: any term. */
#define ANY_TERM UINT64_MAX

/* What the logger kept of each record of our election (copies: the record's strings live only
 * during the call). */
struct kept {
    int level;
    char message[160];
    char id[64];
    uint64_t term;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static struct kept records[MAX_RECORDS];
static int count;
static char election_name[64];
static const char *script;

static void logger(const elect_log_record *r, void *user_data) {
    (void)user_data;
    if (r->election == NULL || strcmp(r->election, election_name) != 0) {
        return;
    }
    pthread_mutex_lock(&lock);
    if (count < MAX_RECORDS) {
        struct kept *k = &records[count++];
        k->level = r->level;
        snprintf(k->message, sizeof k->message, "%s", r->message);
        snprintf(k->id, sizeof k->id, "%s", r->id ? r->id : "");
        k->term = r->term;
    }
    pthread_cond_broadcast(&arrived);
    pthread_mutex_unlock(&lock);
}

/* Waits for a record of `level` whose message starts with `prefix` (NULL: any other than
 * `revoked`) and term `term` (or ANY_TERM); returns its index or -1. */
static int await_record(int level, const char *prefix, uint64_t term) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_S;
    int found = -1;
    pthread_mutex_lock(&lock);
    for (int seen = 0; found < 0;) {
        for (; seen < count && found < 0; seen++) {
            const struct kept *k = &records[seen];
            int match = prefix ? strncmp(k->message, prefix, strlen(prefix)) == 0
                               : strncmp(k->message, "revoked", 7) != 0;
            if (k->level == level && match && (term == ANY_TERM || k->term == term)) {
                found = seen;
            }
        }
        if (found < 0 && pthread_cond_timedwait(&arrived, &lock, &until) != 0) {
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static void server(const char *how) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s " INSTANCE " >/dev/null", script, how);
    if (system(cmd) != 0) {
        fprintf(stderr, "`%s %s` failed\n", script, how);
    }
}

static int fail(const char *what, elect_status st) {
    fprintf(stderr, "observe_redis: %s (%s: %s)\n", what, elect_status_name(st),
            elect_last_error());
    server("stop");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: observe_redis SCRIPT\n");
        return 2;
    }
    script = argv[1];
    if (elect_set_logger(logger, NULL, 9) != ELECT_ERR_INVALID_ARGUMENT) {
        fprintf(stderr, "observe_redis: min_level 9 accepted\n");
        return 1;
    }

    char cmd[512], uri[256] = "", pid[32] = "";
    snprintf(cmd, sizeof cmd, "%s start " INSTANCE, script);
    FILE *out = popen(cmd, "r");
    char line[512];
    while (out && fgets(line, sizeof line, out)) {
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "export ELECT_REDIS_URI=%255s", uri) == 1) continue;
        if (sscanf(line, "export ELECT_REDIS_PID=%31s", pid) == 1) continue;
    }
    if (!out || pclose(out) != 0 || !uri[0] || !pid[0]) {
        fprintf(stderr, "observe_redis: cannot start a Redis server with %s\n", script);
        return 1;
    }

    snprintf(election_name, sizeof election_name, "observe-c-%d", (int)getpid());
    elect_status st = elect_set_logger(logger, NULL, ELECT_LOG_INFO);
    if (st != ELECT_OK) return fail("elect_set_logger", st);

    char full[400];
    snprintf(full, sizeof full, "%s?ttl=2s&renew=300ms&retry=200ms&connect_timeout=1s&id=c1",
             uri);
    elect_election *e = NULL;
    st = elect_open(full, election_name, NULL, NULL, &e);
    if (st != ELECT_OK) return fail("elect_open", st);
    if ((st = elect_start(e)) != ELECT_OK) return fail("elect_start", st);
    if ((st = elect_wait_leader(e, WAIT_S * 1000)) != ELECT_OK) return fail("wait_leader", st);
    uint64_t term = elect_fencing_token(e);

    int i = await_record(ELECT_LOG_INFO, "elected", term);
    if (i < 0 || strcmp(records[i].id, "c1") != 0) return fail("no INFO `elected` record", 0);
    /* The round trip is known after the first renewal (renew=300ms): no event says so, poll. */
    elect_stats_snapshot s = {0};
    for (int tries = 0; tries < WAIT_S * 100 && s.store_rtt_ns <= 0; tries++) {
        if ((st = elect_stats(e, &s)) != ELECT_OK) return fail("elect_stats", st);
        if (s.store_rtt_ns <= 0) nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    if (s.terms_won != 1 || s.lease_remaining_ns <= 0 || s.lease_remaining_ns > 2000000000LL ||
        !s.store_connected || s.store_rtt_ns <= 0 || !s.healthy)
        return fail("stats while leading", 0);
    if (elect_stats(e, NULL) != ELECT_ERR_INVALID_ARGUMENT) return fail("NULL out accepted", 0);

    kill((pid_t)atoi(pid), SIGKILL);
    if (await_record(ELECT_LOG_WARN, "revoked", term) < 0)
        return fail("no WARN `revoked` record with the term", 0);
    /* The store error's term is the term's while the leader still believed it led. */
    if (await_record(ELECT_LOG_WARN, NULL, ANY_TERM) < 0)
        return fail("no WARN store error record", 0);
    if ((st = elect_stats(e, &s)) != ELECT_OK) return fail("elect_stats", st);
    uint64_t lost = s.revocations[ELECT_REASON_STORE_UNREACHABLE] +
                    s.revocations[ELECT_REASON_SESSION_LOST] +
                    s.revocations[ELECT_REASON_LEASE_EXPIRED];
    if (lost != 1 || s.store_errors < 1 || s.lease_remaining_ns != -1 || s.store_connected ||
        s.revocations[ELECT_REASON_RESIGNED] != 0)
        return fail("stats after the fault", 0);

    if ((st = elect_set_logger(NULL, NULL, ELECT_LOG_OFF)) != ELECT_OK) return fail("unset", st);
    elect_close(e);
    server("stop");
    printf("observe_redis: WARN records with election and term arrived; stats counted the fault\n");
    return 0;
}
