// The integer primitives of quant_body.h in AVX2 and VNNI instructions; included by the x86 variant
// files under their target pragma, with VNNI set to 0 (AVX2), 1 (AVX-VNNI) or 2 (AVX-512 VNNI).
#ifndef SPARROW_QUANT_X86_PRIMITIVES_H
#define SPARROW_QUANT_X86_PRIMITIVES_H

#if VNNI == 2
#define DPBUSD _mm256_dpbusd_epi32
#define DPWSSD _mm256_dpwssd_epi32
#elif VNNI == 1
#define DPBUSD _mm256_dpbusd_avx_epi32
#define DPWSSD _mm256_dpwssd_avx_epi32
#endif

INLINE i16x16 maddubs16(u8x32 a, i8x32 b) { return (i16x16)_mm256_maddubs_epi16((__m256i)a, (__m256i)b); }

INLINE i32x8 hadd32(i32x8 a, i32x8 b) { return (i32x8)_mm256_hadd_epi32((__m256i)a, (__m256i)b); }

INLINE i32x8 madd16(i16x16 a, i16x16 b) { return (i32x8)_mm256_madd_epi16((__m256i)a, (__m256i)b); }

#if VNNI
INLINE i32x8 dot_u8s8(i32x8 init, u8x32 a, i8x32 b) { return (i32x8)DPBUSD((__m256i)init, (__m256i)a, (__m256i)b); }

/// Signed weights as w + 128 (unsigned), the 128·Σx taken off through the initial lanes.
INLINE u8x32 s8_operand(i8x32 a) { return (u8x32)(a ^ (int8_t)-128); }

INLINE i32x8 kdot(i32x8 acc, u8x32 q, i8x32 x, i16x16 scale, i16x16 offset) {
    const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16((__m256i)q, (__m256i)x), (__m256i)offset);
    return (i32x8)DPWSSD((__m256i)acc, (__m256i)scale, p);
}
#else
INLINE i32x8 dot_u8s8(i32x8 init, u8x32 a, i8x32 b) {
    const __m256i p = _mm256_maddubs_epi16((__m256i)a, (__m256i)b);
    return init + (i32x8)_mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/// ggml's sign trick: |a| (unsigned; −128 becomes 128) times b with a's sign, so `vpmaddubsw`
/// cannot saturate.
INLINE u8x32 s8_operand(i8x32 a) { return (u8x32)_mm256_sign_epi8((__m256i)a, (__m256i)a); }

INLINE i32x8 dot_s8s8(u8x32 op, i8x32 a, i8x32 b) {
    const __m256i sy = _mm256_sign_epi8((__m256i)b, (__m256i)a);
    return (i32x8)_mm256_madd_epi16(_mm256_maddubs_epi16((__m256i)op, sy), _mm256_set1_epi16(1));
}

INLINE i32x8 kdot(i32x8 acc, u8x32 q, i8x32 x, i16x16 scale, i16x16 offset) {
    const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16((__m256i)q, (__m256i)x), (__m256i)offset);
    return acc + (i32x8)_mm256_madd_epi16((__m256i)scale, p);
}
#endif

#endif
