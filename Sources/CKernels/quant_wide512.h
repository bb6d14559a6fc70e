// AVX-512 tiles for the 32-value formats: two weight rows per 512-bit register, row i in the low
// eight Int32/Float lanes and row i + 1 in the high eight. Each row's lanes follow exactly the
// arithmetic and order of quant_body.h's TILE_32 (same Int32 lanes, same fused multiply-add per block,
// same `hsum_float_8`), so results are the same bits; what changes is that one instruction serves
// two rows. Included by quant_avx512.c only, before quant_body.h, which then uses these tiles for
// pairs of rows.

/// The 16 bytes at `a` and at `b` as [a, a, b, b] (128-bit lanes); with lanes 1 and 3 shifted right
/// by 4 and every byte masked to its low nibble, that is each row's 32 values in ggml's order.
INLINE __m512i nibbles_pair(const uint8_t *a, const uint8_t *b) {
    const __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a)),
                                               _mm_loadu_si128((const __m128i *)b), 1);
    const __m512i spread = _mm512_permutexvar_epi64(_mm512_set_epi64(3, 2, 3, 2, 1, 0, 1, 0), _mm512_castsi256_si512(ab));
    const __m512i shifted = _mm512_srlv_epi16(spread, _mm512_set_epi64(0x0004000400040004, 0x0004000400040004, 0, 0,
                                                                       0x0004000400040004, 0x0004000400040004, 0, 0));
    return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F));
}

/// 0x10 in each byte whose fifth bit is set: bits of row a in bytes 0–31, of row b in 32–63.
INLINE __m512i fifth_bits_pair(const uint8_t *a, const uint8_t *b) {
    const __mmask64 k = (__mmask64)load_u32(a) | ((__mmask64)load_u32(b) << 32);
    return _mm512_maskz_mov_epi8(k, _mm512_set1_epi8(0x10));
}

/// The Float16 at each of `count` (2 to 8, even) block addresses, widened: one `vcvtph2ps`.
INLINE __m256 halves(const uint8_t *const *blocks, int offset, int count) {
    uint16_t h[8] = {0};
    for (int i = 0; i < count; i++) h[i] = load_u16(blocks[i] + offset);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

/// Lanes 0–7 = v[2p], lanes 8–15 = v[2p + 1].
INLINE __m512 pair_lanes(__m256 v, int p) {
    const __m512i index = _mm512_set_epi32(2 * p + 1, 2 * p + 1, 2 * p + 1, 2 * p + 1, 2 * p + 1, 2 * p + 1, 2 * p + 1,
                                           2 * p + 1, 2 * p, 2 * p, 2 * p, 2 * p, 2 * p, 2 * p, 2 * p, 2 * p);
    return _mm512_permutexvar_ps(index, _mm512_castps256_ps512(v));
}

/// `hsum_float_8` of the low (half 0) or high (half 1) eight lanes.
INLINE float hsum8_half(__m512 v, int half) {
    const __m256 h = half ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)) : _mm512_castps512_ps256(v);
    return hsum8((f32x8)h);
}

/// A tile of RT rows (2, 4, 6 or 8: RT / 2 pairs) × CT columns. UNPACK_PAIR(p) sets `wq[p]` from the
/// blocks `blk[2p]`, `blk[2p + 1]`; DOT_PAIR(p) gives the pair's Int32 lanes for the current column.
#define WIDE_TILE_32(NAME, BLOCK_BYTES, D_OFFSET, M_OFFSET, UNPACK_PAIR, DOT_PAIR, WITH_MINS)        \
    INLINE void NAME(const gemm_ctx *g, int64_t r, int64_t c, const int RT, const int CT) {                      \
        __m512 acc[MAX_TILE / 2][MAX_TILE];                                                                     \
        float mins[MAX_TILE][MAX_TILE];                                                                         \
        for (int p = 0; p < RT / 2; p++)                                                                        \
            for (int j = 0; j < CT; j++) acc[p][j] = _mm512_setzero_ps();                                       \
        for (int i = 0; i < RT; i++)                                                                            \
            for (int j = 0; j < CT; j++) mins[i][j] = 0;                                                        \
        const int64_t n = g->x->count;                                                                          \
        for (int64_t b = 0; b < g->blocks; b++) {                                                               \
            const uint8_t *blk[MAX_TILE];                                                                       \
            prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b);                                        \
            for (int i = 0; i < RT; i++) blk[i] = g->w + (r + i) * g->row_bytes + b * (BLOCK_BYTES);           \
            const __m256 d = halves(blk, D_OFFSET, RT);                                                         \
            __m256 m = _mm256_setzero_ps();                                                                     \
            if (WITH_MINS) m = halves(blk, M_OFFSET, RT);                                                       \
            __m512i wq[MAX_TILE / 2];                                                                           \
            __m512 wd[MAX_TILE / 2];                                                                            \
            for (int p = 0; p < RT / 2; p++) {                                                                  \
                UNPACK_PAIR;                                                                                    \
                wd[p] = pair_lanes(d, p);                                                                       \
            }                                                                                                   \
            for (int j = 0; j < CT; j++) {                                                                      \
                const int64_t col = c + j;                                                                      \
                const __m512i xq = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(g->x->qs + col * n + b * 32))); \
                const __m512i negsum = _mm512_broadcast_i64x4(                                                  \
                    _mm256_loadu_si256((const __m256i *)(g->x->neg_sums4 + col * (n / 4) + b * 8)));            \
                const __m512 xd = _mm512_set1_ps(g->x->scales[col * (n / 32) + b]);                             \
                for (int p = 0; p < RT / 2; p++) {                                                              \
                    const __m512i s = DOT_PAIR;                                                                 \
                    acc[p][j] = _mm512_fmadd_ps(_mm512_mul_ps(wd[p], xd), _mm512_cvtepi32_ps(s), acc[p][j]);    \
                }                                                                                               \
                if (WITH_MINS) {                                                                                \
                    const float ss = g->x->scaled_sums[col * (n / 32) + b];                                     \
                    for (int i = 0; i < RT; i++) mins[i][j] += m[i] * ss;                                       \
                }                                                                                               \
                (void)negsum;                                                                                   \
            }                                                                                                   \
        }                                                                                                       \
        for (int p = 0; p < RT / 2; p++)                                                                        \
            for (int j = 0; j < CT; j++) {                                                                      \
                g->y[(c + j) * g->ldy + r + 2 * p] = hsum8_half(acc[p][j], 0) + mins[2 * p][j];                 \
                g->y[(c + j) * g->ldy + r + 2 * p + 1] = hsum8_half(acc[p][j], 1) + mins[2 * p + 1][j];         \
            }                                                                                                   \
    }

WIDE_TILE_32(q4_0_wide, 18, 0, 0, wq[p] = nibbles_pair(blk[2 * p] + 2, blk[2 * p + 1] + 2),
             _mm512_dpbusd_epi32(_mm512_slli_epi32(negsum, 3), wq[p], xq), 0)
WIDE_TILE_32(q4_1_wide, 20, 0, 2, wq[p] = nibbles_pair(blk[2 * p] + 4, blk[2 * p + 1] + 4),
             _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq[p], xq), 1)
WIDE_TILE_32(q5_0_wide, 22, 0, 0,
             wq[p] = _mm512_or_si512(nibbles_pair(blk[2 * p] + 6, blk[2 * p + 1] + 6),
                                     fifth_bits_pair(blk[2 * p] + 2, blk[2 * p + 1] + 2)),
             _mm512_dpbusd_epi32(_mm512_slli_epi32(negsum, 4), wq[p], xq), 0)
WIDE_TILE_32(q5_1_wide, 24, 0, 2,
             wq[p] = _mm512_or_si512(nibbles_pair(blk[2 * p] + 8, blk[2 * p + 1] + 8),
                                     fifth_bits_pair(blk[2 * p] + 4, blk[2 * p + 1] + 4)),
             _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq[p], xq), 1)
// Q8_0: the signed bytes as w + 128 (unsigned), the 128·Σx taken off through the initial lanes.
WIDE_TILE_32(q8_0_wide, 34, 0, 0,
             wq[p] = _mm512_xor_si512(
                 _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(blk[2 * p] + 2))),
                                    _mm256_loadu_si256((const __m256i *)(blk[2 * p + 1] + 2)), 1),
                 _mm512_set1_epi8((char)0x80)),
             _mm512_dpbusd_epi32(_mm512_slli_epi32(negsum, 7), wq[p], xq), 0)
