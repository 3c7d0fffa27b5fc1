/* elect from C: run a job on exactly one process, hand over when it stops.
 *
 *   make && ./elect-example file:///tmp/elect-demo
 *
 * Start it in two terminals: one leads, the other waits; stop the leader (Ctrl-C, or kill -9)
 * and the other takes over. With no arguments it leads once for a few rounds and exits, which
 * is what the project's tests run. */
#include <elect.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* Called on the library's thread, in order: log what happens. Strings are valid only here. */
static void on_event(const elect_event *ev, void *user_data) {
    (void)user_data;
    switch (ev->kind) {
    case ELECT_EVENT_ELECTED:
        printf("elected, term %" PRIu64 "\n", ev->term);
        break;
    case ELECT_EVENT_REVOKED:
        printf("no longer leader of term %" PRIu64 " (%s)\n", ev->term,
               elect_reason_name(ev->reason));
        break;
    case ELECT_EVENT_LEADER_CHANGED:
        printf("leader is now %s\n", ev->leader_id ? ev->leader_id : "nobody");
        break;
    case ELECT_EVENT_ERROR:
        printf("error: %s\n", ev->message);
        break;
    case ELECT_EVENT_MEMBER_JOINED:
        printf("%s joined\n", ev->member_id);
        break;
    case ELECT_EVENT_MEMBER_LEFT:
        printf("%s left\n", ev->member_id);
        break;
    }
    fflush(stdout);
}

/* The protected work: pass the fencing token to whatever you write, so a stale leader's
 * writes can be rejected. */
static void do_work(uint64_t token, int round) {
    printf("round %d: working with fencing token %" PRIu64 "\n", round, token);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *uri = argc > 1 ? argv[1] : "file:///tmp/elect-example";
    int rounds = argc > 2 ? atoi(argv[2]) : 3; /* 0: until stopped */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    elect_election *e = NULL;
    if (elect_open(uri, "example-job", on_event, NULL, &e) != ELECT_OK ||
        elect_start(e) != ELECT_OK) {
        fprintf(stderr, "elect: %s\n", elect_last_error());
        elect_close(e);
        return 1;
    }
    printf("candidate %s campaigning on %s\n", elect_id(e), uri);
    for (int round = 1; !stop && (rounds == 0 || round <= rounds);) {
        elect_status s = elect_wait_leader(e, 1000);
        if (s == ELECT_ERR_TIMEOUT) {
            continue; /* still waiting in line; checks `stop` once a second */
        }
        if (s != ELECT_OK) {
            fprintf(stderr, "elect: %s\n", elect_last_error());
            break;
        }
        /* Check right before each protected action: the lease may have ended meanwhile. */
        if (elect_is_leader(e)) {
            do_work(elect_fencing_token(e), round++);
        }
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    elect_close(e); /* resigns: another candidate takes over at once */
    return 0;
}
