// SwiftPM builds a C target from its sources; everything this target offers is the inline function
// in include/CPrefetch.h.
#include "CPrefetch.h"
