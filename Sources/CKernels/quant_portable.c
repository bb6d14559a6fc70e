// The quantized kernels in plain C, for any CPU: the reference every other variant equals bit for bit.
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"
#include "quant_dispatch.h"

#pragma clang fp contract(off)
// 256-bit vector values pass between always-inline helpers only; no call ABI is involved.
#pragma clang diagnostic ignored "-Wpsabi"

#include "quant_common.h"

#include "quant_generic_primitives.h"

INLINE u8x32 s8_operand(i8x32 a) { return (u8x32)a; }

/// Lane sums of 4 products of signed a and b (no operand to prepare without the sign trick).
INLINE i32x8 dot_s8s8(u8x32 op, i8x32 a, i8x32 b) {
    (void)op;
    i32x8 r = {0};
    for (int l = 0; l < 8; l++)
        for (int k = 0; k < 4; k++) r[l] += (int32_t)a[4 * l + k] * (int32_t)b[4 * l + k];
    return r;
}

#define SUFFIX(name) name##_portable
#define RT_Q6 1
#define CT_Q6 2
#include "quant_body.h"
