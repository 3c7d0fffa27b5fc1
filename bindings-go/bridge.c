// The C callback libelect calls on its callback threads: it forwards the event to Go with the
// cgo.Handle that user_data carries (an integer, not a Go pointer).
#include <elect.h>
#include "_cgo_export.h"

void electGoCallback(const elect_event *ev, void *user_data) {
    goElectEvent((elect_event *)ev, (uintptr_t)user_data);
}

// The C logger: forwards each record to Go (elect_set_logger's user_data is unused).
void electGoLog(const elect_log_record *record, void *user_data) {
    (void)user_data;
    goElectLog((elect_log_record *)record);
}
