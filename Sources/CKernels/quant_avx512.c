// The quantized kernels for avx512 (avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c), chosen at run time (quant.c).
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"
#include "quant_dispatch.h"

#pragma clang fp contract(off)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), apply_to = function)

#include "quant_common.h"
#define VNNI 2
#include "quant_x86_primitives.h"

#define WIDE_TILES 1
#define SUFFIX(name) name##_avx512
// For the K-quants, what scripts/bench-qgemm.sh measured fastest: Q5_K one pair by four columns, Q4_K two pairs by three
// (by four they spill registers), Q6_K two pairs by four.
#define MAX_TILE 8
#define RT_Q6 4
#define CT_Q6 4
#include "quant_body.h"

#pragma clang attribute pop
#endif
