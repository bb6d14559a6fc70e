// The quantized kernels' VNNI code paths (quant_body.h with VNNI set) built with plain-C primitives
// that compute what `vpdpbusd` and `vpdpwssd` compute, then compared bit for bit with the kernels
// the machine runs. A machine without AVX-VNNI or AVX-512 VNNI cannot run those variants; this
// checks the arithmetic their branches choose (the unsigned offsets, the −128·Σx corrections), not
// the instructions. Built and run by scripts/check-vnni-emulated.sh.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"

#pragma clang fp contract(off)
#pragma clang diagnostic ignored "-Wpsabi"

#include "quant_common.h"
#define VNNI 1

/// `vpdpbusd`: init + lane sums of 4 products, a unsigned, b signed.
INLINE i32x8 dot_u8s8(i32x8 init, u8x32 a, i8x32 b) {
    i32x8 r = init;
    for (int l = 0; l < 8; l++)
        for (int k = 0; k < 4; k++) r[l] += (int32_t)a[4 * l + k] * (int32_t)b[4 * l + k];
    return r;
}

/// The VNNI operand of a signed weight: w + 128 as an unsigned byte.
INLINE u8x32 s8_operand(i8x32 a) { return (u8x32)(a ^ (int8_t)-128); }

INLINE i16x16 maddubs16(u8x32 a, i8x32 b) {
    i16x16 r;
    for (int m = 0; m < 16; m++) {
        int32_t s = (int32_t)a[2 * m] * b[2 * m] + (int32_t)a[2 * m + 1] * b[2 * m + 1];
        r[m] = (int16_t)(s > 32767 ? 32767 : (s < -32768 ? -32768 : s));
    }
    return r;
}

INLINE i32x8 hadd32(i32x8 a, i32x8 b) {
    return __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) + __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/// `vpmaddwd`: pair sums a[2l]·b[2l] + a[2l + 1]·b[2l + 1] in Int32.
INLINE i32x8 madd16(i16x16 a, i16x16 b) {
    i32x8 r;
    for (int l = 0; l < 8; l++) r[l] = (int32_t)a[2 * l] * b[2 * l] + (int32_t)a[2 * l + 1] * b[2 * l + 1];
    return r;
}

/// `vpdpwssd` after the offset: acc + pair sums of scale · (maddubs(q, x) − offset).
INLINE i32x8 kdot(i32x8 acc, u8x32 q, i8x32 x, i16x16 scale, i16x16 offset) {
    const i16x16 p = maddubs16(q, x) - offset;
    for (int l = 0; l < 8; l++) acc[l] += (int32_t)scale[2 * l] * p[2 * l] + (int32_t)scale[2 * l + 1] * p[2 * l + 1];
    return acc;
}

#define SUFFIX(name) name##_emulated
#define RT_Q6 2
#define CT_Q6 2
#include "quant_body.h"

static int block_shape(int type, int64_t *bytes, int64_t *values) {
    switch (type) {
    case 2: *bytes = 18; *values = 32; return 0;
    case 3: *bytes = 20; *values = 32; return 0;
    case 6: *bytes = 22; *values = 32; return 0;
    case 7: *bytes = 24; *values = 32; return 0;
    case 8: *bytes = 34; *values = 32; return 0;
    case 12: *bytes = 144; *values = 256; return 0;
    case 13: *bytes = 176; *values = 256; return 0;
    case 14: *bytes = 210; *values = 256; return 0;
    default: return -1;
    }
}

/// One type, `rows` × `length` random weights times `columns` columns: 0 when the emulated VNNI
/// kernels give the bits of the machine's best variant.
static int check(int type, int64_t rows, int64_t length, int64_t columns) {
    int64_t block_bytes, block_values;
    if (block_shape(type, &block_bytes, &block_values)) return 1;
    const int64_t blocks = length / block_values, row_bytes = blocks * block_bytes, per32 = length / 32;
    uint8_t *weights = malloc((size_t)(rows * row_bytes));
    float *x = malloc((size_t)(length * columns) * sizeof(float));
    int8_t *qs = malloc((size_t)(length * columns));
    float *scales = malloc((size_t)(per32 * columns) * sizeof(float));
    float *scaled_sums = malloc((size_t)(per32 * columns) * sizeof(float));
    int16_t *sums32 = malloc((size_t)(per32 * columns) * sizeof(int16_t));
    int32_t *neg_sums32 = malloc((size_t)(per32 * columns) * sizeof(int32_t));
    float *expected = malloc((size_t)(rows * columns) * sizeof(float));
    float *emulated = malloc((size_t)(rows * columns) * sizeof(float));
    if (!weights || !x || !qs || !scales || !scaled_sums || !sums32 || !neg_sums32 || !expected || !emulated) return 1;
    srand((unsigned)(type * 1000 + columns));
    for (int64_t i = 0; i < rows * row_bytes; i++) weights[i] = (uint8_t)rand();
    const _Float16 scale = (_Float16)0.01f;
    for (int64_t b = 0; b < rows * blocks; b++) {
        uint8_t *block = weights + b * block_bytes;
        memcpy(block + (type == 14 ? 208 : 0), &scale, 2);
        if (type == 3 || type == 7 || type == 12 || type == 13) memcpy(block + 2, &scale, 2);
    }
    for (int64_t i = 0; i < length * columns; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    const int format = type >= 10 ? SPARROW_Q8_K : ((type == 3 || type == 7) ? SPARROW_Q8_1 : SPARROW_Q8_0);
    const int isa = sparrow_isa_best();
    for (int64_t c = 0; c < columns; c++)
        sparrow_quantize_q8(isa, format, x + c * length, length, qs + c * length,
                            scales + c * (format == SPARROW_Q8_K ? length / 256 : per32), scaled_sums + c * per32,
                            sums32 + c * per32, neg_sums32 + c * per32);
    const sparrow_q8_matrix matrix = {qs, scales, scaled_sums, sums32, neg_sums32, length};
    if (sparrow_quantized_gemm(isa, type, weights, row_bytes, length, 0, rows, &matrix, 0, columns, expected, rows))
        return 1;
    sparrow_qgemm_emulated(type, weights, row_bytes, length, 0, rows, &matrix, 0, columns, emulated, rows);
    int64_t differ = 0;
    for (int64_t i = 0; i < rows * columns; i++) differ += memcmp(expected + i, emulated + i, 4) != 0;
    printf("type %2d, %lld × %lld times %2lld columns: %s (ISA %d)\n", type, (long long)rows, (long long)length,
           (long long)columns, differ ? "DIFFERENT" : "same bits", isa);
    free(weights), free(x), free(qs), free(scales), free(scaled_sums), free(sums32), free(neg_sums32);
    free(expected), free(emulated);
    return differ != 0;
}

int main(void) {
    const int types[] = {2, 3, 6, 7, 8, 12, 13, 14};
    const int64_t columns[] = {1, 2, 3, 7, 8, 33};
    int failures = 0;
    for (int t = 0; t < 8; t++)
        for (int c = 0; c < 6; c++) failures += check(types[t], 37, 512, columns[c]);
    return failures != 0;
}
