// AVX-512 tiles of Q6_K: two weight rows per 512-bit register, row i in the low eight
// Int32/Float lanes and row i + 1 in the high eight. Each row's lanes follow exactly the arithmetic
// and order of quant_body.h's Q6_K tile (same Int32 lanes, same fused multiply-adds, same
// `hsum_float_8`), so results are the same bits; what changes is that one instruction serves two
// rows. Included by quant_body.h under WIDE_TILES (quant_avx512.c), which then uses these tiles for
// pairs of rows.

/// acc + pair sums of a·b (Int16 → Int32), always one `vpdpwssd`. The compiler otherwise splits an
/// accumulating chain of them into `vpmaddwd` + `vpaddd` to shorten its latency, which costs an
/// instruction per step where the products, not the latency, are the limit.
INLINE __m512i dpwssd512(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
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

// MARK: K-quants

/// [a's 32 bytes | b's 32 bytes].
INLINE __m512i bytes_pair(const uint8_t *a, const uint8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/// Int16 lanes 0–15 = v[i], lanes 16–31 = v[j] (`v` holds 32 Int16 values).
INLINE __m512i pick16(__m512i v, int i, int j) {
    return _mm512_permutexvar_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)i)),
                                                       _mm256_set1_epi16((short)j), 1), v);
}

/// Super-blocks the K-quant sweep unpacks at once (its scratch: 8 × 2 pairs × 1.2 KB).
#define SWEEP_K_BLOCKS 8

/// Q6_K for a pair of rows: q6_K_tile's arithmetic with row a in the low half of each register.
INLINE void q6_K_wide(const gemm_ctx *g, int64_t r, int64_t c, const int RT, const int CT) {
    __m512 acc[MAX_TILE / 2][MAX_TILE];
    for (int p = 0; p < RT / 2; p++)
        for (int j = 0; j < CT; j++) acc[p][j] = _mm512_setzero_ps();
    const int64_t n = g->x->count;
    for (int64_t b = 0; b < g->blocks; b++) {
        const uint8_t *blk[MAX_TILE];
        prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b);
        for (int i = 0; i < RT; i++) blk[i] = g->w + (r + i) * g->row_bytes + b * 210;
        const __m256 d = halves(blk, 208, RT);
        __m512i scales[MAX_TILE / 2];
        __m512i sumi[MAX_TILE / 2][MAX_TILE];
        for (int p = 0; p < RT / 2; p++) {
            scales[p] = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(blk[2 * p] + 192))),
                _mm_loadu_si128((const __m128i *)(blk[2 * p + 1] + 192)), 1));
            for (int j = 0; j < CT; j++) sumi[p][j] = _mm512_setzero_si512();
        }
        for (int grp = 0; grp < 8; grp++) {
            const int h = grp / 4, t = grp % 4;
            __m512i u[MAX_TILE / 2], scale[MAX_TILE / 2];
            for (int p = 0; p < RT / 2; p++) {
                const __m512i ql = bytes_pair(blk[2 * p] + 64 * h + 32 * (t % 2), blk[2 * p + 1] + 64 * h + 32 * (t % 2));
                const __m512i qh = bytes_pair(blk[2 * p] + 128 + 32 * h, blk[2 * p + 1] + 128 + 32 * h);
                const __m512i low = t < 2 ? _mm512_and_si512(ql, _mm512_set1_epi8(0x0F))
                                          : _mm512_and_si512(_mm512_srli_epi16(ql, 4), _mm512_set1_epi8(0x0F));
                const __m512i high = _mm512_and_si512(_mm512_srli_epi16(qh, 2 * t), _mm512_set1_epi8(3));
                u[p] = _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
                // Int16 lanes 0–7 scale 2g of row a, 8–15 scale 2g + 1; 16–31 the same of row b.
                const __m512i index = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_setr_epi16(2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp,
                                                             2 * grp, 2 * grp, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1,
                                                             2 * grp + 1, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1,
                                                             2 * grp + 1)),
                    _mm256_add_epi16(_mm256_setr_epi16(2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp,
                                                       2 * grp, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1,
                                                       2 * grp + 1, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1),
                                     _mm256_set1_epi16(16)), 1);
                scale[p] = _mm512_permutexvar_epi16(index, scales[p]);
            }
            for (int j = 0; j < CT; j++) {
                const __m512i x = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256((const __m256i *)(g->x->qs + (c + j) * n + b * 256 + 32 * grp)));
                const __m512i offset = _mm512_maddubs_epi16(_mm512_set1_epi8(32), x);
                for (int p = 0; p < RT / 2; p++)
                    sumi[p][j] = dpwssd512(sumi[p][j], scale[p],
                                                     _mm512_sub_epi16(_mm512_maddubs_epi16(u[p], x), offset));
            }
        }
        for (int j = 0; j < CT; j++) {
            const __m512 xd = _mm512_set1_ps(g->x->scales[(c + j) * (n / 256) + b]);
            for (int p = 0; p < RT / 2; p++)
                acc[p][j] = _mm512_fmadd_ps(_mm512_mul_ps(xd, pair_lanes(d, p)), _mm512_cvtepi32_ps(sumi[p][j]),
                                            acc[p][j]);
        }
    }
    for (int p = 0; p < RT / 2; p++)
        for (int j = 0; j < CT; j++) {
            g->y[(c + j) * g->ldy + r + 2 * p] = hsum8_half(acc[p][j], 0);
            g->y[(c + j) * g->ldy + r + 2 * p + 1] = hsum8_half(acc[p][j], 1);
        }
}

/// One pair of rows' Q6_K super-block, unpacked for the sweep. The values are kept signed,
/// w = u − 32, and multiplied by x + 128 (unsigned), which `vpmaddubsw` takes in one instruction
/// where q6_K_wide needs `maddubs(u, x) − maddubs(32, x)`: Σ(x + 128)·w = Σw·x + 128·Σw, and the
/// weights' own 128·Σw, scaled like the products, is `correction`, taken off once per super-block.
/// The Int32 lanes are q6_K_wide's exactly (|pair sums| ≤ 2·255·32 never saturate).
typedef struct q6_unpacked {
    __m512i w[8], scale[8];
    __m512i correction;
    __m512 d;
} q6_unpacked;

/// q6_K_wide's rows of one column tile over a run of unpacked super-blocks (see WIDE_SWEEP_K4).
INLINE void q6_K_sweep_run(const gemm_ctx *g, const q6_unpacked (*un)[MAX_TILE / 2], int64_t b0, int64_t nb,
                           int64_t c, int64_t c0, __m512 (*accs)[MAX_TILE / 2], const int RT, const int CT) {
    __m512 acc[MAX_TILE / 2][MAX_TILE];
    for (int p = 0; p < RT / 2; p++)
        for (int j = 0; j < CT; j++) acc[p][j] = accs[c - c0 + j][p];
    const int64_t n = g->x->count;
    for (int64_t k = 0; k < nb; k++) {
        const int64_t b = b0 + k;
        __m512i sumi[MAX_TILE / 2][MAX_TILE];
        for (int p = 0; p < RT / 2; p++)
            for (int j = 0; j < CT; j++) sumi[p][j] = _mm512_setzero_si512();
        for (int grp = 0; grp < 8; grp++)
            for (int j = 0; j < CT; j++) {
                const __m512i x = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256((const __m256i *)(g->x->qs + (c + j) * n + b * 256 + 32 * grp)));
                const __m512i x128 = _mm512_xor_si512(x, _mm512_set1_epi8((char)0x80));
                for (int p = 0; p < RT / 2; p++)
                    sumi[p][j] = dpwssd512(sumi[p][j], un[k][p].scale[grp],
                                                     _mm512_maddubs_epi16(x128, un[k][p].w[grp]));
            }
        for (int j = 0; j < CT; j++) {
            const __m512 xd = _mm512_set1_ps(g->x->scales[(c + j) * (n / 256) + b]);
            for (int p = 0; p < RT / 2; p++) {
                const __m512i s = _mm512_sub_epi32(sumi[p][j], un[k][p].correction);
                acc[p][j] = _mm512_fmadd_ps(_mm512_mul_ps(xd, un[k][p].d), _mm512_cvtepi32_ps(s), acc[p][j]);
            }
        }
    }
    for (int p = 0; p < RT / 2; p++)
        for (int j = 0; j < CT; j++) accs[c - c0 + j][p] = acc[p][j];
}

/// q6_K_wide as a sweep: RT rows (2 or 4) × columns c0..<c1, each run of SWEEP_K_BLOCKS
/// super-blocks unpacked once for all column tiles; the same bits as q6_K_wide.
INLINE void q6_K_sweep(const gemm_ctx *g, int64_t r, int64_t c0, int64_t c1, const int RT, const int CT) {
    __m512 accs[COLUMN_BLOCK][MAX_TILE / 2];
    q6_unpacked un[SWEEP_K_BLOCKS][MAX_TILE / 2];
    for (int64_t j = 0; j < c1 - c0; j++)
        for (int p = 0; p < RT / 2; p++) accs[j][p] = _mm512_setzero_ps();
    for (int64_t b0 = 0; b0 < g->blocks; b0 += SWEEP_K_BLOCKS) {
        const int64_t nb = g->blocks - b0 < SWEEP_K_BLOCKS ? g->blocks - b0 : SWEEP_K_BLOCKS;
        for (int64_t k = 0; k < nb; k++) {
            const int64_t b = b0 + k;
            const uint8_t *blk[MAX_TILE];
            prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b);
            for (int i = 0; i < RT; i++) blk[i] = g->w + (r + i) * g->row_bytes + b * 210;
            const __m256 d = halves(blk, 208, RT);
            for (int p = 0; p < RT / 2; p++) {
                q6_unpacked *v = &un[k][p];
                v->d = pair_lanes(d, p);
                const __m512i scales = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(blk[2 * p] + 192))),
                    _mm_loadu_si128((const __m128i *)(blk[2 * p + 1] + 192)), 1));
                v->correction = _mm512_setzero_si512();
                for (int grp = 0; grp < 8; grp++) {
                    const int h = grp / 4, t = grp % 4;
                    const __m512i ql = bytes_pair(blk[2 * p] + 64 * h + 32 * (t % 2), blk[2 * p + 1] + 64 * h + 32 * (t % 2));
                    const __m512i qh = bytes_pair(blk[2 * p] + 128 + 32 * h, blk[2 * p + 1] + 128 + 32 * h);
                    const __m512i low = t < 2 ? _mm512_and_si512(ql, _mm512_set1_epi8(0x0F))
                                              : _mm512_and_si512(_mm512_srli_epi16(ql, 4), _mm512_set1_epi8(0x0F));
                    const __m512i high = _mm512_and_si512(_mm512_srli_epi16(qh, 2 * t), _mm512_set1_epi8(3));
                    v->w[grp] = _mm512_sub_epi8(_mm512_or_si512(low, _mm512_slli_epi16(high, 4)), _mm512_set1_epi8(32));
                    // Int16 lanes 0–7 scale 2g of row a, 8–15 scale 2g + 1; 16–31 the same of row b.
                    const __m256i half = _mm256_setr_epi16(2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp, 2 * grp,
                                                           2 * grp, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1,
                                                           2 * grp + 1, 2 * grp + 1, 2 * grp + 1, 2 * grp + 1);
                    const __m512i index = _mm512_inserti64x4(_mm512_castsi256_si512(half),
                                                             _mm256_add_epi16(half, _mm256_set1_epi16(16)), 1);
                    v->scale[grp] = _mm512_permutexvar_epi16(index, scales);
                    v->correction = _mm512_dpwssd_epi32(v->correction, v->scale[grp],
                                                        _mm512_maddubs_epi16(_mm512_set1_epi8((char)0x80), v->w[grp]));
                }
            }
        }
        int64_t c = c0;
        for (; c + CT <= c1; c += CT) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, CT);
        switch (c1 - c) {
        case 1: q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 1); break;
        case 2: if (CT > 2) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 2); break;
        case 3: if (CT > 3) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 3); break;
        case 4: if (CT > 4) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 4); break;
        case 5: if (CT > 5) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 5); break;
        case 6: if (CT > 6) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 6); break;
        case 7: if (CT > 7) q6_K_sweep_run(g, un, b0, nb, c, c0, accs, RT, 7); break;
        default: break;
        }
    }
    for (int p = 0; p < RT / 2; p++)
        for (int64_t j = 0; j < c1 - c0; j++) {
            g->y[(c0 + j) * g->ldy + r + 2 * p] = hsum8_half(accs[j][p], 0);
            g->y[(c0 + j) * g->ldy + r + 2 * p + 1] = hsum8_half(accs[j][p], 1);
        }
}
