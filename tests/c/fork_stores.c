/* fork() on every store given: a prefork server (gunicorn --preload, uWSGI, Celery prefork)
 * opens an election in the parent, forks, and each child opens its own election on the same
 * store.
 *
 * Usage: fork_stores URI...   (one URI per store, e.g. file:///tmp/x etcd://127.0.0.1:2379)
 *
 * For each URI: the parent opens an election, campaigns and leads; it forks; the child opens an
 * election of another name on the same store and must lead it, then exits 0. The parent must
 * still lead afterwards. Then the parent closes its election and forks again: a child of a
 * process that had opened (and closed) an election must open one too. Every wait is bounded;
 * a failure names the store (its scheme: a URI may carry a password) and the step. */
#define _GNU_SOURCE
#include "elect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 20000

/* The store's name for messages: the URI's scheme, never the rest (it may hold a password). */
static const char *store;

static elect_election *open_on(const char *uri, const char *name) {
    elect_options *opts = elect_options_new();
    elect_election *e = NULL;
    elect_status st = elect_options_set(opts, "ttl", "3s");
    if (st == ELECT_OK) {
        st = elect_open_with(uri, name, opts, NULL, NULL, &e);
    }
    elect_options_free(opts);
    if (st != ELECT_OK) {
        fprintf(stderr, "open `%s` on %s: %s: %s\n", name, store, elect_status_name(st),
                elect_last_error());
        return NULL;
    }
    return e;
}

/* Opens `name` on `uri`, campaigns, waits to lead. Returns the election, or NULL (reported). */
static elect_election *lead(const char *uri, const char *name) {
    elect_election *e = open_on(uri, name);
    if (e == NULL) {
        return NULL;
    }
    elect_status st = elect_start(e);
    if (st == ELECT_OK) {
        st = elect_wait_leader(e, WAIT_MS);
    }
    if (st != ELECT_OK || !elect_is_leader(e)) {
        fprintf(stderr, "lead `%s` on %s: %s: %s\n", name, store, elect_status_name(st),
                elect_last_error());
        elect_close(e);
        return NULL;
    }
    return e;
}

/* Forks a child that must lead an election of its own on `uri`. Returns 0 when it did. */
static int child_leads(const char *uri, const char *what) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        char name[64];
        snprintf(name, sizeof name, "fork-child-%d", (int)getpid());
        elect_election *own = lead(uri, name);
        if (own == NULL) {
            fprintf(stderr, "child %s on %s could not lead its own election\n", what, store);
            _exit(1);
        }
        elect_close(own);
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL %s: child %s exited with status %d\n", store, what, status);
        return 1;
    }
    return 0;
}

static int check_store(const char *uri) {
    static char scheme[32];
    snprintf(scheme, sizeof scheme, "%.*s", (int)strcspn(uri, ":"), uri);
    store = scheme;
    char name[64];
    snprintf(name, sizeof name, "fork-parent-%d", (int)getpid());
    elect_election *parent = lead(uri, name);
    if (parent == NULL) {
        fprintf(stderr, "FAIL %s: the parent could not lead\n", store);
        return 1;
    }
    int failed = child_leads(uri, "of a leading parent");
    if (!elect_is_leader(parent)) {
        fprintf(stderr, "FAIL %s: the parent lost its leadership while the child ran\n", store);
        failed = 1;
    }
    elect_close(parent);
    failed |= child_leads(uri, "of a parent that closed its election");
    if (!failed) {
        printf("ok fork %s\n", store);
    }
    return failed;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: %s URI...\n", argv[0]);
        return 2;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        failed |= check_store(argv[i]);
    }
    return failed;
}
