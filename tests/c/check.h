/* The harness of the C tests: checks that print what failed and exit 1, and a scratch
 * directory for the file store. Included by one test program each (its statics are that
 * program's). */
#ifndef ELECT_TESTS_CHECK_H
#define ELECT_TESTS_CHECK_H

#include "elect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a check waits for anything that should happen. */
#define WAIT_MS 10000

/* The scratch directory (see scratch_open) and the number of checks run. */
static char dir[256];
static int checks;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, " (last error: %s)\n", elect_last_error());                  \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* A call that must fail with `want` and a message containing `part`. */
#define CHECK_ERR(call, want, part)                                                       \
    do {                                                                                  \
        elect_status got_ = (call);                                                       \
        CHECK(got_ == (want), "%s returned %s, want %s", #call, elect_status_name(got_), \
              elect_status_name(want));                                                   \
        CHECK(strstr(elect_last_error(), (part)) != NULL, "message of %s lacks '%s'",   \
              #call, (part));                                                             \
    } while (0)

#define CHECK_OK(call) CHECK((call) == ELECT_OK, "%s failed", #call)

/* Line-buffered output and a fresh directory /tmp/<prefix>-XXXXXX in `dir`. */
static void scratch_open(const char *prefix) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(dir, sizeof dir, "/tmp/%s-XXXXXX", prefix);
    CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");
}

/* Removes `dir` and reports the number of checks of `what`. */
static void scratch_close(const char *what) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "warning: could not remove %s\n", dir);
    }
    printf("all C %s passed (%d checks)\n", what, checks);
}

#endif
