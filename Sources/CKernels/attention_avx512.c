// The attention kernels for x86-64 with AVX-512 (F, BW, VL, VNNI), on 512-bit registers.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), \
                             apply_to = function)

#define SPARROW_VARIANT avx512
#include "attention_impl.h"

static inline vf16 fma16(vf16 a, vf16 b, vf16 c) { return __builtin_elementwise_fma(a, b, c); }

static inline vf16 widen16(const uint16_t *p) { return (vf16)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

static inline void narrow16(vf16 x, uint16_t *p) {
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph((__m512)x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

#pragma clang attribute pop
#endif
