// The activation kernels for any CPU: plain C on clang's vectors, fused multiply-adds through
// `fmaf` where the target has no instruction for them.
#pragma clang fp contract(off)

#define SPARROW_VARIANT portable
#include "activation_impl.h"
