// The attention kernels for x86-64 with AVX2, FMA and F16C (also used on AVX-VNNI CPUs).
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define SPARROW_VARIANT avx2
#include "attention_impl.h"

static inline vf16 fma16(vf16 a, vf16 b, vf16 c) { return __builtin_elementwise_fma(a, b, c); }

static inline vf16 widen16(const uint16_t *p) {
    const vf8 lo = (vf8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    const vf8 hi = (vf8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 8)));
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

static inline void narrow16(vf16 x, uint16_t *p) {
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph((__m256)x.lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    _mm_storeu_si128((__m128i *)(p + 8), _mm256_cvtps_ph((__m256)x.hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

#pragma clang attribute pop
#endif
