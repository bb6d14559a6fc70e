// The activation kernels for x86-64 with AVX2 and FMA (also used on AVX-VNNI CPUs): each 16-lane
// vector is two 256-bit registers.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define SPARROW_VARIANT avx2
#include "activation_impl.h"

#pragma clang attribute pop
#endif
