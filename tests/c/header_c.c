/* The generated header compiles cleanly as C11 under -Wall -Wextra -Werror -pedantic, and
 * every declared type and function is usable from C. */
#include "elect.h"

#include <stdio.h>

static void on_event(const elect_event *ev, void *user_data) {
    (void)user_data;
    (void)ev->kind;
}

int main(void) {
    elect_callback cb = on_event;
    elect_leader_info info = {0};
    elect_member_list members = {0};
    elect_status status = ELECT_OK;
    elect_revoke_reason reason = ELECT_REASON_NONE;
    elect_event_kind kind = ELECT_EVENT_ELECTED;
    (void)cb;
    (void)status;
    (void)reason;
    (void)kind;
    elect_leader_info_free(&info);
    elect_members_free(&members);
    printf("elect %s (C)\n", elect_version());
    return 0;
}
