// The activation kernels for x86-64 with AVX-512 (F, BW, VL, VNNI): each 16-lane vector is one
// 512-bit register.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), \
                             apply_to = function)

#define SPARROW_VARIANT avx512
#include "activation_impl.h"

#pragma clang attribute pop
#endif
