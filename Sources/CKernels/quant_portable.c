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

INLINE i32x8 dot_u8s8(i32x8 init, u8x32 a, i8x32 b) {
    i32x8 r = init;
    for (int l = 0; l < 8; l++)
        for (int k = 0; k < 4; k++) r[l] += (int32_t)a[4 * l + k] * (int32_t)b[4 * l + k];
    return r;
}

INLINE u8x32 s8_operand(i8x32 a) { return (u8x32)a; }

INLINE i32x8 dot_s8s8(u8x32 op, i8x32 a, i8x32 b, i32x8 neg128) {
    (void)op, (void)neg128;
    i32x8 r = {0};
    for (int l = 0; l < 8; l++)
        for (int k = 0; k < 4; k++) r[l] += (int32_t)a[4 * l + k] * (int32_t)b[4 * l + k];
    return r;
}

/// `vpmaddubsw`: Int16 sums of adjacent products, saturated.
INLINE i16x16 maddubs16(u8x32 a, i8x32 b) {
    i16x16 r;
    for (int m = 0; m < 16; m++) {
        int32_t s = (int32_t)a[2 * m] * b[2 * m] + (int32_t)a[2 * m + 1] * b[2 * m + 1];
        r[m] = (int16_t)(s > 32767 ? 32767 : (s < -32768 ? -32768 : s));
    }
    return r;
}

/// `vphaddd`: pair sums of a and b, per 128-bit half [a01 a23 b01 b23 | a45 a67 b45 b67].
INLINE i32x8 hadd32(i32x8 a, i32x8 b) {
    return __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) + __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/// `vpmaddwd`: pair sums a[2l]·b[2l] + a[2l + 1]·b[2l + 1] in Int32.
INLINE i32x8 madd16(i16x16 a, i16x16 b) {
    i32x8 r;
    for (int l = 0; l < 8; l++) r[l] = (int32_t)a[2 * l] * b[2 * l] + (int32_t)a[2 * l + 1] * b[2 * l + 1];
    return r;
}

INLINE i32x8 kdot(i32x8 acc, u8x32 q, i8x32 x, i16x16 scale, i16x16 offset) {
    const i16x16 p = maddubs16(q, x) - offset;
    for (int l = 0; l < 8; l++) acc[l] += (int32_t)scale[2 * l] * p[2 * l] + (int32_t)scale[2 * l + 1] * p[2 * l + 1];
    return acc;
}

#define SUFFIX(name) name##_portable
#define RT_Q6 1
#define CT_Q6 2
#include "quant_body.h"
