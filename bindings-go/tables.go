package elect

/*
#include "elect.h"
*/
import "C"

// coreOptionNames lists the options every store understands, from the core's table (for the
// test that checks this package offers a With function for each).
func coreOptionNames() []string {
	var names []string
	for i := 0; ; i++ {
		name := C.elect_option_name(C.size_t(i))
		if name == nil {
			return names
		}
		names = append(names, C.GoString(name))
	}
}
