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
#include "qgemm_product.h"

#pragma clang fp contract(off)
#pragma clang diagnostic ignored "-Wpsabi"

#include "quant_common.h"
#define VNNI 1

#include "quant_generic_primitives.h"

/// The VNNI operand of a signed weight: w + 128 as an unsigned byte.
INLINE u8x32 s8_operand(i8x32 a) { return (u8x32)(a ^ (int8_t)-128); }

#define SUFFIX(name) name##_emulated
#define RT_Q6 2
/// One column (decoding) takes four rows a tile, as in quant_avx2.c.
#define RT_Q6_ONE 4
#define CT_Q6 2
#include "quant_body.h"

/// One type, `rows` × `length` random weights times `columns` columns: 0 when the emulated VNNI
/// kernels give the bits of the machine's best variant.
static int check(int type, int64_t rows, int64_t length, int64_t columns) {
    const int isa = sparrow_isa_best();
    qgemm_product p;
    if (qgemm_product_make(&p, type, rows, length, columns, isa, (unsigned)(type * 1000 + columns))) return 1;
    float *expected = malloc((size_t)(rows * columns) * sizeof(float));
    float *emulated = malloc((size_t)(rows * columns) * sizeof(float));
    if (!expected || !emulated) return 1;
    if (sparrow_quantized_gemm(isa, type, p.weights, p.row_bytes, length, 0, rows, &p.matrix, 0, columns, expected, rows))
        return 1;
    sparrow_qgemm_emulated(type, p.weights, p.row_bytes, length, 0, rows, &p.matrix, 0, columns, emulated, rows);
    int64_t differ = 0;
    for (int64_t i = 0; i < rows * columns; i++) differ += memcmp(expected + i, emulated + i, 4) != 0;
    printf("type %2d, %lld × %lld times %2lld columns: %s (ISA %d)\n", type, (long long)rows, (long long)length,
           (long long)columns, differ ? "DIFFERENT" : "same bits", isa);
    qgemm_product_free(&p);
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
