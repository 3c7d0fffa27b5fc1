// The C callback libelect calls on its dispatcher thread: it forwards the event to Go with the
// cgo.Handle that user_data carries (an integer, not a Go pointer).
#include <elect.h>
#include "_cgo_export.h"

void electGoCallback(const elect_event *ev, void *user_data) {
    goElectEvent((elect_event *)ev, (uintptr_t)user_data);
}
