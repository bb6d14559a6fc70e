// The Float matrix product for x86-64 with AVX-512 (F, BW, VL, VNNI), on 512-bit registers: 32 of
// them hold a tile of 4 rows × 6 columns of 16 lane sums, the rows' weight vectors and one
// activation vector.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), \
                             apply_to = function)

#define SPARROW_VARIANT avx512
#define LANES 16
#define TILE_ROWS 4
#define TILE_COLUMNS 6
#define COLUMN_BLOCK 48
#define RUN_BYTES 16384
#include "float_matmul_impl.h"

static inline vfl fma_l(vfl a, vfl b, vfl c) { return __builtin_elementwise_fma(a, b, c); }

static inline vfl widen_half_l(const uint8_t *p) {
    return (vfl)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

#pragma clang attribute pop
#endif
