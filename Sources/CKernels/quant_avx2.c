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
/// 32-value formats: 8 rows × 1 token. Eight accumulators and the token's values fit the 16 `ymm`
/// registers with the weights as memory operands; 4 × 2 spilled accumulators to the stack. The sweeps
/// still unpack each block once for 16 tokens. One thread on Zen 3 (scripts/bench-qgemm.sh): Q4_0
/// 4096 × 4096 times 1 token 0.91 → 0.70 ms, 2048 × 2048 times 128 tokens 17.6 → 15.3 ms.
#define RT_32 8
#define CT_32 1
#define MAX_TILE 8
#define RT_K 2
#define CT_K 3
#define RT_Q6 2
#define CT_Q6 4
/// Q4_K and Q5_K unpack each super-block once per sweep of columns (see NARROW_SWEEP_K4).
#define K_SWEEPS 1
#include "quant_body.h"

#pragma clang attribute pop
#endif
