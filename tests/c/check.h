/* The assertion macros of the C tests: a failed check prints the condition, a message and
 * libelect's last error, then exits 1. Each test program counts its checks in `checks`. */
#ifndef ELECT_TESTS_CHECK_H
#define ELECT_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "elect.h"

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

#define CHECK_OK(call) CHECK((call) == ELECT_OK, "%s failed", #call)

#endif
