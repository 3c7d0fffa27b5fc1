/* What the C scenario agent's files share (agent.c: requests and single elections;
 * agent_group.c: the group mode). */
#ifndef ELECT_AGENT_H
#define ELECT_AGENT_H

#include "elect.h"

/* One whole line on stdout, flushed, serialized with every other writer. */
void say(const char *fmt, ...);
/* `event <prefix><event>`: prefix "" for an election, "shard <i> " for a group's shard. */
void say_event(const char *prefix, const elect_event *ev);
/* `ok`, or `err <code> <message>` with the library's last error. */
void reply_status(elect_status s);

/* `group <uri> <name> <shards> <cap|->`, `leading`, and the group's close at `quit`. */
void group_open(const char *uri, const char *name, const char *shards, const char *cap);
void group_leading(void);
void group_close(void);

#endif
