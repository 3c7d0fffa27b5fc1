/* The shared-scenario agent over the C ABI: reads requests on stdin, one per line, and writes
 * one reply line per request plus event lines from the callback (see tests/scenarios and the
 * agent protocol: open/start/observe/is_leader/token/wait_leader/resign/proclaim/hand_over/
 * leader/members/close/quit). Built by tests/c/Makefile; run through the tests/c/agent script. */
#define _POSIX_C_SOURCE 200809L
#include "elect.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static elect_election *election;
/* After `close` the handle is freed, but the agent answers like a closed election would (the
 * scenarios check that a closed election refuses calls), until the next `open`. */
static int closed;

/* One whole line on stdout, flushed; newlines inside become spaces. Serialized because the
 * callback writes events from the library's thread while main writes replies. */
static void say(const char *fmt, ...) {
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    pthread_mutex_lock(&out_lock);
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void on_event(const elect_event *ev, void *user_data) {
    (void)user_data;
    switch (ev->kind) {
    case ELECT_EVENT_ELECTED:
        say("event elected %" PRIu64, ev->term);
        break;
    case ELECT_EVENT_REVOKED:
        say("event revoked %" PRIu64 " %s", ev->term, elect_reason_name(ev->reason));
        break;
    case ELECT_EVENT_LEADER_CHANGED:
        if (ev->leader_id && ev->leader_value && ev->leader_value[0]) {
            say("event leader %s %" PRIu64 " %s", ev->leader_id, ev->term, ev->leader_value);
        } else if (ev->leader_id) {
            say("event leader %s %" PRIu64, ev->leader_id, ev->term);
        } else {
            say("event leader -");
        }
        break;
    case ELECT_EVENT_ERROR:
        say("event error %s", ev->message ? ev->message : "");
        break;
    case ELECT_EVENT_MEMBER_JOINED:
    case ELECT_EVENT_MEMBER_LEFT:
        say("event %s %s%s%s", ev->kind == ELECT_EVENT_MEMBER_JOINED ? "member_joined" : "member_left",
            ev->member_id, ev->member_value[0] ? " " : "", ev->member_value);
        break;
    }
}

static void reply_status(elect_status s) {
    if (s == ELECT_OK) {
        say("ok");
    } else {
        say("err %s %s", elect_status_name(s), elect_last_error());
    }
}

static void do_leader(void) {
    elect_leader_info info;
    elect_status s = elect_leader(election, &info);
    if (s != ELECT_OK) {
        reply_status(s);
    } else if (info.id == NULL) {
        say("ok -");
    } else {
        say("ok %s %" PRIu64, info.id, info.term);
    }
    elect_leader_info_free(&info);
}

static void do_members(void) {
    elect_member_list list;
    elect_status s = elect_members(election, &list);
    if (s != ELECT_OK) {
        reply_status(s);
        return;
    }
    char ids[4096] = "";
    size_t used = 0;
    for (size_t i = 0; i < list.len && used < sizeof ids; i++) {
        used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%s", i ? "," : "",
                                 list.items[i].id);
    }
    elect_members_free(&list);
    say("ok %s", ids);
}

static void do_wait(const char *arg) {
    elect_status s = elect_wait_leader(election, arg ? strtoll(arg, NULL, 10) : -1);
    if (s == ELECT_OK) {
        say("ok true");
    } else if (s == ELECT_ERR_TIMEOUT) {
        say("ok false");
    } else {
        reply_status(s);
    }
}

/* Handles one request; returns 0 on `quit`. */
static int handle(char *line) {
    char *save = NULL;
    char *cmd = strtok_r(line, " ", &save);
    char *arg1 = strtok_r(NULL, " ", &save);
    char *arg2 = strtok_r(NULL, " ", &save);
    if (cmd == NULL) {
        return 1; /* an empty line is no request: no reply, like the Rust agent */
    } else if (strcmp(cmd, "quit") == 0) {
        elect_close(election);
        election = NULL;
        say("ok");
        return 0;
    } else if (strcmp(cmd, "open") == 0) {
        if (election != NULL) {
            say("err wrong_state agent: an election is already open; send `close` first");
            return 1;
        }
        elect_status s = elect_open(arg1, arg2, on_event, NULL, &election);
        closed = closed && s != ELECT_OK;
        reply_status(s);
    } else if (strcmp(cmd, "close") == 0) {
        elect_close(election); /* events still queued are written before it returns */
        closed = closed || election != NULL;
        election = NULL;
        say("ok");
    } else if (election == NULL && closed) {
        if (strcmp(cmd, "is_leader") == 0) {
            say("ok false");
        } else if (strcmp(cmd, "token") == 0) {
            say("ok 0");
        } else {
            say("err closed the election is closed");
        }
    } else if (election == NULL) {
        say("err wrong_state agent: no election; send `open <uri> <name>` first");
    } else if (strcmp(cmd, "start") == 0) {
        reply_status(elect_start(election));
    } else if (strcmp(cmd, "observe") == 0) {
        reply_status(elect_observe(election));
    } else if (strcmp(cmd, "is_leader") == 0) {
        say("ok %s", elect_is_leader(election) ? "true" : "false");
    } else if (strcmp(cmd, "token") == 0) {
        say("ok %" PRIu64, elect_fencing_token(election));
    } else if (strcmp(cmd, "wait_leader") == 0) {
        do_wait(arg1);
    } else if (strcmp(cmd, "resign") == 0) {
        reply_status(elect_resign(election));
    } else if (strcmp(cmd, "proclaim") == 0) {
        reply_status(elect_proclaim(election, arg1));
    } else if (strcmp(cmd, "hand_over") == 0) {
        reply_status(elect_hand_over_to(election, arg1));
    } else if (strcmp(cmd, "leader") == 0) {
        do_leader();
    } else if (strcmp(cmd, "members") == 0) {
        do_members();
    } else {
        say("err invalid_argument agent: unknown request `%s`", cmd);
    }
    return 1;
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }
        if (!handle(line)) {
            break;
        }
    }
    free(line);
    elect_close(election);
    return 0;
}
