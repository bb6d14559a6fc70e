// The quantized kernels for avx2 (avx2,fma,f16c), chosen at run time (quant.c).
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"
#include "quant_dispatch.h"

#pragma clang fp contract(off)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#include "quant_common.h"
#define VNNI 0
#include "quant_x86_primitives.h"

#define SUFFIX(name) name##_avx2
#define MAX_TILE 8
#define RT_Q6 2
/// One column (decoding) takes four rows a tile (10 % faster there; for many columns four rows a
/// tile measured slower, so RT_Q6 stays 2).
#define RT_Q6_ONE 4
#define CT_Q6 4
/// Q6_K unpacks each super-block once per sweep of columns (quant_ksweep.h).
#define K_SWEEPS 1
#include "quant_body.h"

#pragma clang attribute pop
#endif
