package elect

/*
#include <elect.h>
*/
import "C"

// Version is the version of elect this module belongs to, the workspace version of the
// repository (tests/run.d/02-version checks it); LibraryVersion gives the linked library's.
const Version = "0.1.0"

// LibraryVersion is the version of the libelect the program is linked against at run time.
func LibraryVersion() string { return C.GoString(C.elect_version()) }
