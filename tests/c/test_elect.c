/* The C ABI from C, on the file backend: the life of an election, callbacks and their order,
 * bad input with the exact codes and messages, elect_close inside a callback, and fork().
 *
 * Usage: test_elect            (uses a fresh directory under /tmp, removed at the end)
 * Every check prints what failed and exits 1; waits are event-driven with a time limit. */
#define _GNU_SOURCE
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *uri_for(const char *id, const char *extra) {
    static char buf[8][512];
    static int next;
    char *out = buf[next++ % 8];
    /* silence: after a resign, the resigner stays out of line for a while, so the candidate
     * already waiting takes over (flock wakes waiters in no particular order). */
    snprintf(out, sizeof buf[0], "file://%s?id=%s&ttl=3s&renew=300ms&silence=300ms%s", dir, id,
             extra);
    return out;
}

/* ---- events recorded by the callback, awaited by the test ---- */

typedef struct {
    elect_event_kind kind;
    uint64_t term;
    elect_revoke_reason reason;
    char leader[64]; /* the leader's id (LEADER_CHANGED) or the member's (MEMBER_*), or "-" */
} seen_event;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    seen_event events[256];
    int count;
} recorder;

static void recorder_init(recorder *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
}

static void record(const elect_event *ev, void *user_data) {
    recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    if (r->count < 256) {
        seen_event *s = &r->events[r->count++];
        s->kind = ev->kind;
        s->term = ev->term;
        s->reason = ev->reason;
        const char *who = ev->leader_id ? ev->leader_id : ev->member_id;
        snprintf(s->leader, sizeof s->leader, "%s", who ? who : "-");
    }
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

static struct timespec deadline_in(int ms) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Waits until event number `index` of kind `kind` (skipping other kinds from `*from`) arrives;
 * returns it. `leader`, if not NULL, must match the event's leader or member id. */
static seen_event await_event(recorder *r, int *from, elect_event_kind kind, const char *leader) {
    struct timespec until = deadline_in(WAIT_MS);
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (*from < r->count) {
            seen_event s = r->events[(*from)++];
            if (s.kind == kind && (leader == NULL || strcmp(s.leader, leader) == 0)) {
                pthread_mutex_unlock(&r->lock);
                return s;
            }
        }
        int rc = pthread_cond_timedwait(&r->changed, &r->lock, &until);
        CHECK(rc != ETIMEDOUT, "event kind %d did not arrive within %d ms", kind, WAIT_MS);
    }
}

static void record_nothing(const elect_event *ev, void *user_data) {
    (void)ev;
    (void)user_data;
}

/* ---- the life of an election ---- */

static void test_lifecycle(void) {
    recorder ra, rb, rc;
    recorder_init(&ra);
    recorder_init(&rb);
    recorder_init(&rc);
    int ia = 0, ib = 0, ic = 0;
    elect_election *a = NULL, *b = NULL, *c = NULL;

    CHECK_OK(elect_open(uri_for("a", ""), "job", record, &ra, &a));
    CHECK(a != NULL, "open gave no handle");
    CHECK(strcmp(elect_id(a), "a") == 0, "id is %s", elect_id(a));
    CHECK(!elect_is_leader(a), "leader before start");
    CHECK(elect_fencing_token(a) == 0, "token before start");
    CHECK_ERR(elect_wait_leader(a, 10), ELECT_ERR_WRONG_STATE, "start");

    CHECK_OK(elect_start(a));
    CHECK_ERR(elect_start(a), ELECT_ERR_WRONG_STATE, "already started");
    CHECK_ERR(elect_observe(a), ELECT_ERR_WRONG_STATE, "already started");
    CHECK_OK(elect_wait_leader(a, WAIT_MS));
    CHECK(elect_is_leader(a), "not leader after wait_leader");
    CHECK_OK(elect_wait_leader(a, -1)); /* "forever" returns at once when leading */
    CHECK_OK(elect_wait_leader(a, 0));
    uint64_t t1 = elect_fencing_token(a);
    CHECK(t1 > 0, "no token while leading");
    seen_event ev = await_event(&ra, &ia, ELECT_EVENT_ELECTED, NULL);
    CHECK(ev.term == t1, "elected term %llu, token %llu", (unsigned long long)ev.term,
          (unsigned long long)t1);

    elect_leader_info info;
    CHECK_OK(elect_leader(a, &info));
    CHECK(info.id && strcmp(info.id, "a") == 0, "leader is %s", info.id ? info.id : "NULL");
    CHECK(info.term == t1, "leader term %llu", (unsigned long long)info.term);
#ifdef USE_AFTER_FREE_ON_PURPOSE /* the sanitizer run's negative control: ASan must catch it */
    const char *freed = info.id;
    elect_leader_info_free(&info);
    CHECK(freed[0] == 'a', "read after free");
#else
    elect_leader_info_free(&info);
#endif
    CHECK(info.id == NULL && info.value == NULL, "free did not zero the info");
    elect_leader_info_free(&info); /* a second free is a no-op */

    /* An observer sees the leader with the value it set; it never leads. */
    CHECK_OK(elect_open(uri_for("c", "&value=10.0.0.3"), "job", record, &rc, &c));
    CHECK_OK(elect_observe(c));
    await_event(&rc, &ic, ELECT_EVENT_LEADER_CHANGED, "a");
    CHECK_ERR(elect_wait_leader(c, 10), ELECT_ERR_WRONG_STATE, "start");

    /* A second candidate waits in line, and is a member. */
    CHECK_OK(elect_open(uri_for("b", "&value=10.0.0.2"), "job", record, &rb, &b));
    CHECK_OK(elect_start(b));
    CHECK_ERR(elect_wait_leader(b, 50), ELECT_ERR_TIMEOUT, "50 ms");
    CHECK(!elect_is_leader(b) && elect_fencing_token(b) == 0, "b leads while a does");

    /* b joins in the background after elect_start, and no event tells when: poll (bounded). */
    int found_a = 0, found_b = 0;
    for (int tries = 0; !(found_a && found_b) && tries < WAIT_MS / 10; tries++) {
        elect_member_list members;
        CHECK_OK(elect_members(a, &members));
        found_a = found_b = 0;
        for (size_t i = 0; i < members.len; i++) {
            found_a |= strcmp(members.items[i].id, "a") == 0;
            if (strcmp(members.items[i].id, "b") == 0) {
                found_b = 1;
                CHECK(strcmp(members.items[i].value, "10.0.0.2") == 0, "b's value is %s",
                      members.items[i].value);
            }
        }
        elect_members_free(&members);
        CHECK(members.items == NULL && members.len == 0, "free did not zero the list");
        if (!(found_a && found_b)) {
            usleep(10 * 1000);
        }
    }
    CHECK(found_a && found_b, "members lack a (%d) or b (%d)", found_a, found_b);

    /* Graceful resign hands over to b with a greater token; a's Revoked is reported. */
    CHECK_OK(elect_resign(a));
    CHECK(!elect_is_leader(a), "a still leads after resign");
    CHECK_OK(elect_wait_leader(b, WAIT_MS));
    uint64_t t2 = elect_fencing_token(b);
    CHECK(t2 > t1, "token did not grow: %llu then %llu", (unsigned long long)t1,
          (unsigned long long)t2);
    ev = await_event(&ra, &ia, ELECT_EVENT_REVOKED, NULL);
    CHECK(ev.term == t1 && ev.reason == ELECT_REASON_RESIGNED, "revoked %llu for %s",
          (unsigned long long)ev.term, elect_reason_name(ev.reason));
    await_event(&rc, &ic, ELECT_EVENT_LEADER_CHANGED, "b");

    /* Closing the leader hands back to a (which campaigns again after resigning). */
    elect_close(b);
    b = NULL;
    ev = await_event(&rb, &ib, ELECT_EVENT_REVOKED, NULL);
    CHECK(ev.term == t2 && ev.reason == ELECT_REASON_CLOSED, "b revoked for %s",
          elect_reason_name(ev.reason));
    CHECK_OK(elect_wait_leader(a, WAIT_MS));
    uint64_t t3 = elect_fencing_token(a);
    CHECK(t3 > t2, "token did not grow again");
    await_event(&rc, &ic, ELECT_EVENT_LEADER_CHANGED, "a");

    /* Order: every Elected after the first comes after the Revoked of the previous term. */
    elect_close(a);
    elect_close(c);
    uint64_t leading = 0;
    int elected = 0;
    for (int i = 0; i < ra.count; i++) {
        seen_event s = ra.events[i];
        if (s.kind == ELECT_EVENT_ELECTED) {
            CHECK(leading == 0, "Elected %llu before the Revoked of %llu",
                  (unsigned long long)s.term, (unsigned long long)leading);
            leading = s.term;
            elected++;
        } else if (s.kind == ELECT_EVENT_REVOKED) {
            CHECK(s.term == leading, "Revoked %llu while leading %llu",
                  (unsigned long long)s.term, (unsigned long long)leading);
            leading = 0;
        }
    }
    CHECK(elected == 2 && leading == 0, "a was elected %d times, ends leading %llu", elected,
          (unsigned long long)leading);
    CHECK(ra.events[ra.count - 1].reason == ELECT_REASON_CLOSED, "last event of a is %d",
          ra.events[ra.count - 1].kind);
    printf("ok lifecycle (tokens %llu < %llu < %llu)\n", (unsigned long long)t1,
           (unsigned long long)t2, (unsigned long long)t3);
}

/* ---- hand-over to a named member ---- */

static void test_hand_over(void) {
    recorder ra, rb;
    recorder_init(&ra);
    recorder_init(&rb);
    int ia = 0, ib = 0;
    elect_election *a = NULL, *b = NULL;
    CHECK_OK(elect_open(uri_for("a", ""), "handover", record, &ra, &a));
    CHECK_OK(elect_open(uri_for("b", ""), "handover", record, &rb, &b));
    CHECK_OK(elect_start(a));
    CHECK_OK(elect_wait_leader(a, WAIT_MS));
    uint64_t t1 = elect_fencing_token(a);
    CHECK_OK(elect_start(b));

    CHECK_ERR(elect_hand_over_to(b, "a"), ELECT_ERR_NOT_LEADER, "does not lead");
    CHECK_ERR(elect_hand_over_to(a, "nobody"), ELECT_ERR_INVALID_ARGUMENT,
              "`nobody` is not a member");
    CHECK_ERR(elect_hand_over_to(a, "a"), ELECT_ERR_INVALID_ARGUMENT, "own id");
    CHECK_ERR(elect_hand_over_to(a, NULL), ELECT_ERR_INVALID_ARGUMENT, "successor");
    CHECK(elect_is_leader(a) && elect_fencing_token(a) == t1, "a hand-over refused changed a");

    /* a checks against the members it was told of. */
    await_event(&ra, &ia, ELECT_EVENT_MEMBER_JOINED, "b");
    CHECK_OK(elect_hand_over_to(a, "b"));
    CHECK(!elect_is_leader(a), "a still leads after handing over");
    seen_event ev = await_event(&rb, &ib, ELECT_EVENT_ELECTED, NULL);
    uint64_t t2 = ev.term;
    CHECK(t2 > t1 && elect_fencing_token(b) == t2, "token did not grow: %llu then %llu",
          (unsigned long long)t1, (unsigned long long)t2);
    ev = await_event(&ra, &ia, ELECT_EVENT_REVOKED, NULL);
    CHECK(ev.term == t1 && ev.reason == ELECT_REASON_PREEMPTED, "a revoked %llu for %s",
          (unsigned long long)ev.term, elect_reason_name(ev.reason));
    CHECK(strcmp(elect_reason_name(ELECT_REASON_PREEMPTED), "preempted") == 0, "reason name");
    elect_stats_snapshot stats;
    CHECK_OK(elect_stats(a, &stats));
    CHECK(stats.revocations[ELECT_REASON_PREEMPTED] == 1 &&
              stats.revocations[ELECT_REASON_RESIGNED] == 0 && stats.store_errors == 0,
          "a's stats: preempted %llu, resigned %llu, store errors %llu",
          (unsigned long long)stats.revocations[ELECT_REASON_PREEMPTED],
          (unsigned long long)stats.revocations[ELECT_REASON_RESIGNED],
          (unsigned long long)stats.store_errors);
    elect_close(a);
    elect_close(b);
    printf("ok hand-over (tokens %llu < %llu)\n", (unsigned long long)t1,
           (unsigned long long)t2);
}

/* ---- bad input ---- */

static void test_bad_input(void) {
    elect_election *e = (elect_election *)&checks; /* must be overwritten with NULL */
    const char *uri = uri_for("x", "");

    CHECK_ERR(elect_open(NULL, "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT, "`uri`");
    CHECK(e == NULL, "out not cleared on failure");
    CHECK_ERR(elect_open(uri, NULL, NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT, "`name`");
    CHECK_ERR(elect_open(uri, "job", NULL, NULL, NULL), ELECT_ERR_INVALID_ARGUMENT, "`out`");
    CHECK_ERR(elect_open_with(uri, "job", NULL, NULL, NULL, NULL), ELECT_ERR_INVALID_ARGUMENT,
              "`out`");
    CHECK_ERR(elect_start(NULL), ELECT_ERR_INVALID_ARGUMENT, "elect_start: `e` is NULL");
    CHECK_ERR(elect_observe(NULL), ELECT_ERR_INVALID_ARGUMENT, "`e`");
    CHECK_ERR(elect_wait_leader(NULL, 0), ELECT_ERR_INVALID_ARGUMENT, "`e`");
    CHECK_ERR(elect_resign(NULL), ELECT_ERR_INVALID_ARGUMENT, "elect_resign");
    elect_leader_info info;
    CHECK_ERR(elect_leader(NULL, &info), ELECT_ERR_INVALID_ARGUMENT, "`e`");
    CHECK(info.id == NULL, "info not zeroed on failure");
    CHECK_ERR(elect_leader(NULL, NULL), ELECT_ERR_INVALID_ARGUMENT, "`out`");
    elect_member_list list;
    CHECK_ERR(elect_members(NULL, &list), ELECT_ERR_INVALID_ARGUMENT, "`e`");
    CHECK(list.items == NULL && list.len == 0, "list not zeroed on failure");
    CHECK_ERR(elect_members(NULL, NULL), ELECT_ERR_INVALID_ARGUMENT, "`out`");
    CHECK(!elect_is_leader(NULL), "NULL leads");
    CHECK(elect_fencing_token(NULL) == 0, "NULL has a token");
    CHECK(strcmp(elect_id(NULL), "") == 0, "NULL has an id");
    elect_close(NULL);
    elect_leader_info_free(NULL);
    elect_members_free(NULL);
    elect_options_free(NULL);
    CHECK_ERR(elect_options_set(NULL, "ttl", "1s"), ELECT_ERR_INVALID_ARGUMENT, "`opts`");

    /* Bad URIs and options: the message names the bad part. */
    char buf[512];
    CHECK_ERR(elect_open("no-scheme", "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT,
              "scheme");
    CHECK_ERR(elect_open("gopher://h/x", "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT,
              "gopher");
    snprintf(buf, sizeof buf, "file://%s?ttl=soon", dir);
    CHECK_ERR(elect_open(buf, "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT, "`ttl`");
    snprintf(buf, sizeof buf, "file://%s?frobnicate=1", dir);
    CHECK_ERR(elect_open(buf, "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT,
              "`frobnicate`");
    snprintf(buf, sizeof buf, "file://%s?ttl=1s&renew=1s", dir);
    CHECK_ERR(elect_open(buf, "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT, "`renew`");
    snprintf(buf, sizeof buf, "file://%s?ttl=1s&renew=5s", dir);
    CHECK_ERR(elect_open(buf, "job", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT, "`renew`");
    CHECK_ERR(elect_open(uri, "", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT, "name");
    CHECK_ERR(elect_open(uri, "j\xff\xfe", NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT,
              "`name` is not valid UTF-8");
    CHECK(e == NULL, "out not cleared on failure");

    /* Options given in code get the same validation, and win over the query string. */
    elect_options *opts = elect_options_new();
    CHECK_ERR(elect_options_set(opts, NULL, "1s"), ELECT_ERR_INVALID_ARGUMENT, "`key`");
    CHECK_ERR(elect_options_set(opts, "ttl", NULL), ELECT_ERR_INVALID_ARGUMENT, "`value`");
    CHECK_OK(elect_options_set(opts, "bogus", "1"));
    CHECK_ERR(elect_open_with(uri, "job", opts, NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT,
              "option `bogus`");
    elect_options_free(opts);
    opts = elect_options_new();
    CHECK_OK(elect_options_set(opts, "renew", "4s")); /* ttl is 3s in the URI */
    CHECK_ERR(elect_open_with(uri, "job", opts, NULL, NULL, &e), ELECT_ERR_INVALID_ARGUMENT,
              "`renew`");
    elect_options_free(opts);
    opts = elect_options_new();
    CHECK_OK(elect_options_set(opts, "id", "from-options"));
    CHECK_OK(elect_open_with(uri, "job", opts, NULL, NULL, &e));
    elect_options_free(opts);
    CHECK(strcmp(elect_id(e), "from-options") == 0, "option did not win: %s", elect_id(e));
    elect_close(e);

    /* Status names come from core's ErrorCode names. */
    CHECK(strcmp(elect_status_name(ELECT_ERR_INVALID_ARGUMENT), "invalid_argument") == 0,
          "status name");
    CHECK(strcmp(elect_status_name(999), "unknown") == 0, "unknown status name");
    CHECK(strcmp(elect_reason_name(ELECT_REASON_LEASE_EXPIRED), "lease_expired") == 0,
          "reason name");
    printf("ok bad input\n");
}

/* ---- elect_close from inside the election's own callback ---- */

typedef struct {
    elect_election *e;
    pthread_mutex_t lock;
    pthread_cond_t done;
    int closed;          /* elect_close returned inside the callback */
    int after_close;     /* callbacks that started after that: must stay 0 */
} closer;

static void close_when_elected(const elect_event *ev, void *user_data) {
    closer *c = user_data;
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        c->after_close++;
    }
    pthread_mutex_unlock(&c->lock);
    if (ev->kind != ELECT_EVENT_ELECTED) {
        return;
    }
    elect_close(c->e); /* would deadlock if close waited for this callback */
    pthread_mutex_lock(&c->lock);
    c->closed = 1;
    pthread_cond_signal(&c->done);
    pthread_mutex_unlock(&c->lock);
}

static void test_close_inside_callback(void) {
    closer c = {.closed = 0};
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.done, NULL);
    pthread_mutex_lock(&c.lock); /* the callback cannot run before c.e is set */
    CHECK_OK(elect_open(uri_for("closer", ""), "close-job", close_when_elected, &c, &c.e));
    CHECK_OK(elect_start(c.e));
    struct timespec until = deadline_in(WAIT_MS);
    while (!c.closed) {
        int rc = pthread_cond_timedwait(&c.done, &c.lock, &until);
        CHECK(rc != ETIMEDOUT, "elect_close inside the callback did not return");
    }
    pthread_mutex_unlock(&c.lock);

    /* The leadership was released: another candidate is elected at once. */
    elect_election *next = NULL;
    CHECK_OK(elect_open(uri_for("next", ""), "close-job", NULL, NULL, &next));
    CHECK_OK(elect_start(next));
    CHECK_OK(elect_wait_leader(next, WAIT_MS));
    elect_close(next);
    usleep(100 * 1000); /* gives a wrongly delivered late event the chance to show */
    pthread_mutex_lock(&c.lock);
    CHECK(c.after_close == 0, "%d callbacks ran after elect_close returned", c.after_close);
    pthread_mutex_unlock(&c.lock);
    printf("ok close inside callback\n");
}

/* ---- SIGPIPE: blocked in the library's threads, untouched in the host's ---- */

/* A store client writing to a dead socket raises SIGPIPE in its thread; with the C default
 * action that would kill this process. Every thread the library started (named elect-*) must
 * have SIGPIPE blocked, and the host thread's mask must be as it was. */
static void test_sigpipe_blocked_in_library_threads(void) {
    elect_election *e = NULL;
    CHECK_OK(elect_open(uri_for("sig", ""), "sig-job", record_nothing, NULL, &e));
    CHECK_OK(elect_start(e));
    CHECK_OK(elect_wait_leader(e, WAIT_MS));
    sigset_t mine;
    pthread_sigmask(SIG_BLOCK, NULL, &mine);
    CHECK(!sigismember(&mine, SIGPIPE), "elect_open left SIGPIPE blocked in the host thread");

    DIR *tasks = opendir("/proc/self/task");
    CHECK(tasks != NULL, "cannot list /proc/self/task");
    int library_threads = 0;
    struct dirent *t;
    while ((t = readdir(tasks)) != NULL) {
        if (t->d_name[0] == '.') {
            continue;
        }
        char path[300], comm[64] = "", line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", t->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue; /* the thread ended meanwhile */
        }
        if (fgets(comm, sizeof comm, f) == NULL) {
            comm[0] = 0;
        }
        fclose(f);
        if (strncmp(comm, "elect", 5) != 0) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/status", t->d_name);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        unsigned long long blocked = 0;
        while (fgets(line, sizeof line, f) != NULL) {
            sscanf(line, "SigBlk: %llx", &blocked);
        }
        fclose(f);
        comm[strcspn(comm, "\n")] = 0;
        CHECK(blocked & (1ULL << (SIGPIPE - 1)), "library thread %s does not block SIGPIPE", comm);
        library_threads++;
    }
    closedir(tasks);
    /* At least the two runtime workers; a thread names itself only once it runs, so the event
     * thread may not carry its elect-* name yet. */
    CHECK(library_threads >= 2, "found %d library threads", library_threads);
    elect_close(e);
    printf("ok SIGPIPE blocked in %d library threads\n", library_threads);
}

/* ---- a forked child cannot use the parent's election, but can open its own ---- */

static void test_fork(void) {
    elect_election *e = NULL;
    CHECK_OK(elect_open(uri_for("parent", ""), "fork-job", NULL, NULL, &e));
    CHECK_OK(elect_start(e));
    CHECK_OK(elect_wait_leader(e, WAIT_MS));
    /* The child's verdict comes through a pipe, not its exit status, which a leak checker
     * following the fork may change (the child exits holding the parent's state). */
    int verdict[2];
    CHECK(pipe(verdict) == 0, "pipe failed");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
        /* The child has none of the library's threads: no leadership, no blocking calls. */
        int bad = elect_is_leader(e) || elect_fencing_token(e) != 0 ||
                  elect_resign(e) != ELECT_ERR_CLOSED ||
                  strstr(elect_last_error(), "fork") == NULL;
        /* ...but an election the child opens itself runs on a fresh runtime and leads. */
        elect_election *own = NULL;
        if (!bad) {
            bad = elect_open(uri_for("child", ""), "fork-child-job", NULL, NULL, &own) != ELECT_OK ||
                  elect_start(own) != ELECT_OK || elect_wait_leader(own, WAIT_MS) != ELECT_OK ||
                  !elect_is_leader(own);
            elect_close(own);
        }
        char answer = bad ? 'x' : 'k';
        _exit(write(verdict[1], &answer, 1) == 1 ? 0 : 1);
    }
    close(verdict[1]);
    char answer = 0;
    ssize_t got = read(verdict[0], &answer, 1);
    close(verdict[0]);
    waitpid(pid, NULL, 0);
    CHECK(got == 1 && answer == 'k', "child saw the parent's election (answer %c)", answer);
    CHECK(elect_is_leader(e), "the parent lost its leadership");
    elect_close(e);
    printf("ok fork\n");
}

int main(void) {
    scratch_open("elect-c-test");
    printf("libelect %s, directory %s\n", elect_version(), dir);
    test_bad_input();
    test_lifecycle();
    test_hand_over();
    test_close_inside_callback();
    test_sigpipe_blocked_in_library_threads();
    test_fork();
    scratch_close("tests");
    return 0;
}
