// The generated header compiles cleanly as C++ under -Wall -Wextra -Werror -pedantic, with C
// linkage for every function.
#include "elect.h"

#include <cstdio>

static void on_event(const elect_event *ev, void *user_data) {
    (void)user_data;
    (void)ev->kind;
}

int main() {
    elect_callback cb = on_event;
    elect_leader_info info = {};
    elect_member_list members = {};
    elect_status status = ELECT_OK;
    (void)cb;
    (void)status;
    elect_leader_info_free(&info);
    elect_members_free(&members);
    std::printf("elect %s (C++)\n", elect_version());
    return 0;
}
