/* Opens and closes elections many times, so a leak checker (valgrind in tests/run.d/20-c) can
 * prove that nothing the library allocates per election outlives elect_close.
 *
 * Usage: leak_cycles DIR CYCLES
 * Every cycle opens (odd ones with a callback) and closes; every 100th also campaigns,
 * leads, reads the leader and the members, and resigns; some fail on bad input on purpose. */
#include "elect.h"

#include <stdio.h>
#include <stdlib.h>

static void ignore(const elect_event *ev, void *user_data) {
    (void)ev;
    (*(long *)user_data)++;
}

static int fail(const char *what, long cycle) {
    fprintf(stderr, "cycle %ld: %s: %s\n", cycle, what, elect_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR CYCLES\n", argv[0]);
        return 2;
    }
    char uri[512];
    snprintf(uri, sizeof uri, "file://%s?ttl=2s&renew=200ms", argv[1]);
    long cycles = atol(argv[2]);
    long events = 0;
    for (long i = 0; i < cycles; i++) {
        elect_election *e = NULL;
        elect_callback cb = i % 2 ? ignore : NULL;
        if (elect_open(uri, "leak-job", cb, &events, &e) != ELECT_OK) {
            return fail("open", i);
        }
        if (i % 100 == 1) {
            elect_leader_info info;
            elect_member_list members;
            if (elect_start(e) != ELECT_OK || elect_wait_leader(e, 10000) != ELECT_OK) {
                return fail("start/wait_leader", i);
            }
            if (elect_leader(e, &info) != ELECT_OK || info.id == NULL) {
                return fail("leader", i);
            }
#ifndef LEAK_ON_PURPOSE /* the suite's negative control: valgrind must catch this */
            elect_leader_info_free(&info);
#endif
            if (elect_members(e, &members) != ELECT_OK || members.len != 1) {
                return fail("members", i);
            }
            elect_members_free(&members);
            if (elect_resign(e) != ELECT_OK) {
                return fail("resign", i);
            }
        }
        if (i % 10 == 0) {
            /* Failing calls allocate messages and partial state too. */
            elect_election *bad = NULL;
            elect_options *opts = elect_options_new();
            elect_options_set(opts, "nonsense", "1");
            if (elect_open_with(uri, "leak-job", opts, NULL, NULL, &bad) == ELECT_OK) {
                return fail("bad option accepted", i);
            }
            elect_options_free(opts);
        }
        elect_close(e);
    }
    printf("%ld open/close cycles, %ld events\n", cycles, events);
    return 0;
}
