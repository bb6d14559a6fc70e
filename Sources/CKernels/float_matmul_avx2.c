// The Float matrix product for x86-64 with AVX2, FMA and F16C (also used on AVX-VNNI CPUs), on
// 256-bit registers: each result's 16 lanes are two vectors of 8.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define SPARROW_VARIANT avx2
#define LANES 8
#define TILE_ROWS 2
#define TILE_COLUMNS 3
#define COLUMN_BLOCK 24
#define RUN_BYTES 16384
#include "float_matmul_impl.h"

static inline vfl fma_l(vfl a, vfl b, vfl c) { return __builtin_elementwise_fma(a, b, c); }

static inline vfl widen_half_l(const uint8_t *p) { return (vfl)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

#pragma clang attribute pop
#endif
