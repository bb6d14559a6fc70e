// SwiftPM builds a C target from its sources; everything this target offers is the inline functions
// in include/CIntrinsics.h.
#include "CIntrinsics.h"
