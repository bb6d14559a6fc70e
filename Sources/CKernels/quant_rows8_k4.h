// Q4_K and Q5_K, eight weight rows at a time with one row per lane, as quant_rows8.h does for the
// 32-value formats. Included by quant_body.h after quant_rows8.h.
//
// The Float order: per weight row and activation column one Float, super-blocks in order; each
// adds d_w·d_x times its exact Int32 Σ_s scale_s·(q·x)_s with one fused multiply-add, then
// −dmin·d_x times its exact Int32 Σ_s min_s·(Σx)_s with another (s the eight sub-blocks of 32,
// (Σx)_s the activation's stored sums of 32).

/// Eight rows' super-block, interleaved.
typedef struct rows8_k4_block {
    /// [s][k]: lane l holds row l's values 4k..4k+3 of sub-block s (Q5_K: with their fifth bits).
    u8x32 q[8][8];
    /// [s]: Int16 lanes 2l and 2l + 1 hold row l's scale of sub-block s.
    i16x16 scale[8];
    /// [p]: Int16 lanes 2l and 2l + 1 hold row l's mins of sub-blocks 2p and 2p + 1.
    i16x16 mins[4];
    f32x8 d, neg_dmin;
} rows8_k4_block;

/// Super-blocks unpacked at once: 4 × 2.5 KB, beside the columns' 16 × 1 KB.
#define ROWS8_K_SWEEP_BLOCKS 4

/// Q4_K and Q5_K: d, dmin, 12 bytes of 6-bit scales and mins, (Q5_K: 32 bytes of fifth bits,) 128
/// bytes of nibbles; sub-blocks 2p and 2p + 1 share 32 bytes, low and high nibbles; bit s of the
/// fifth-bit byte i belongs to value i of sub-block s.
INLINE void rows8_k4_unpack(const uint8_t *const rows[8], int64_t o, int fifth, rows8_k4_block *u) {
    u->d = halves8(rows, o);
    u->neg_dmin = -halves8(rows, o + 2);
    int16_t scales[8][16], mins[4][16];
    for (int i = 0; i < 8; i++) {
        const u8x16 v = k4_scales_mins16(rows[i] + o + 4);
        for (int s = 0; s < 8; s++) scales[s][2 * i] = scales[s][2 * i + 1] = v[s];
        for (int p = 0; p < 4; p++) mins[p][2 * i] = v[8 + 2 * p], mins[p][2 * i + 1] = v[9 + 2 * p];
    }
    memcpy(u->scale, scales, sizeof scales);
    memcpy(u->mins, mins, sizeof mins);
    u32x8 high[8];
    if (fifth) {
        interleave_words(rows, o + 16, high);
        interleave_words(rows, o + 32, high + 4);
    }
    const int64_t quants = o + (fifth ? 48 : 16);
    for (int p = 0; p < 4; p++) {
        u32x8 words[8];
        interleave_words(rows, quants + 32 * p, words);
        interleave_words(rows, quants + 32 * p + 16, words + 4);
        for (int k = 0; k < 8; k++) {
            u8x32 lo = (u8x32)words[k] & (uint8_t)0x0F, hi = (u8x32)(words[k] >> 4) & (uint8_t)0x0F;
            if (fifth) {
                const u8x32 h = (u8x32)high[k];
                lo |= bit_to_fifth(h, 2 * p);
                hi |= bit_to_fifth(h, 2 * p + 1);
            }
            u->q[2 * p][k] = lo;
            u->q[2 * p + 1][k] = hi;
        }
    }
}

/// One sub-block's Σ scale·(q·x) per row lane. VNNI chains `vpdpbusd`, then multiplies by the
/// scales in Int32 (the low Int16 of each lane of `scale`); otherwise the Int16 pair sums of
/// `vpmaddubsw` add up (8 of them for values ≤ 15, 4 for ≤ 31, as in rows8_dot_unsigned), then
/// `vpmaddwd` by the scales. Both are exact: |Σ| ≤ 32·31·128·63.
INLINE i32x8 rows8_scaled_dot(const u8x32 q[8], const i8x32 x[8], i16x16 scale, int max) {
#if defined(VNNI) && VNNI
    (void)max;
    i32x8 s = {0};
    for (int k = 0; k < 8; k++) s = dot_u8s8(s, q[k], x[k]);
    return s * ((i32x8)scale & 0xFFFF);
#else
    if (max <= 15) {
        i16x16 s = maddubs16(q[0], x[0]);
        for (int k = 1; k < 8; k++) s += maddubs16(q[k], x[k]);
        return madd16(s, scale);
    }
    i16x16 s0 = maddubs16(q[0], x[0]), s1 = maddubs16(q[4], x[4]);
    for (int k = 1; k < 4; k++) s0 += maddubs16(q[k], x[k]), s1 += maddubs16(q[k + 4], x[k + 4]);
    return madd16(s0, scale) + madd16(s1, scale);
#endif
}

/// A Q4_K or Q5_K super-block's scales as Int16, twice (lanes s and 8 + s hold sub-block s's), and
/// its mins as Int16, from k4_scales_mins16.
INLINE void k4_scales_mins_i16(const uint8_t *packed, i16x16 *scales, i16x8 *mins) {
    const u8x16 v = k4_scales_mins16(packed);
    *scales = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7), i16x16);
    *mins = __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), i16x8);
}

/// Each sub-block's scale in every lane, from k4_scales_mins_i16's scales: one in-lane shuffle each.
INLINE void k4_scale_splats(i16x16 v, i16x16 out[8]) {
#define K4_SPLAT(s) __builtin_shufflevector(v, v, s, s, s, s, s, s, s, s, s + 8, s + 8, s + 8, s + 8, s + 8, s + 8, s + 8, s + 8)
    out[0] = K4_SPLAT(0), out[1] = K4_SPLAT(1), out[2] = K4_SPLAT(2), out[3] = K4_SPLAT(3);
    out[4] = K4_SPLAT(4), out[5] = K4_SPLAT(5), out[6] = K4_SPLAT(6), out[7] = K4_SPLAT(7);
#undef K4_SPLAT
}

/// Q4_K's or Q5_K's values of sub-blocks 2p (low nibbles) and 2p + 1 (high nibbles) in their own
/// order, with Q5_K's fifth bits: the 32 bytes at 16 + 32p (Q5_K: 48 + 32p, its fifth bits at 16).
INLINE void k4_values(const uint8_t *blk, int fifth, int p, u8x32 *lo, u8x32 *hi) {
    const u8x32 q = load_u8x32(blk + (fifth ? 48 : 16) + 32 * p);
    *lo = q & (uint8_t)0x0F;
    *hi = q >> 4;
    if (fifth) {
        const u8x32 h = load_u8x32(blk + 16);
        *lo |= bit_to_fifth(h, 2 * p);
        *hi |= bit_to_fifth(h, 2 * p + 1);
    }
}

#define ROWS8_K4(NAME, BLOCK_BYTES, FIFTH)                                                                        \
    /* Column c over the unpacked super-blocks b0..<b0 + nb; its accumulator in acc[c − c0]. */                   \
    INLINE void NAME##_run(const gemm_ctx *g, const rows8_k4_block *un, int64_t b0, int64_t nb, int64_t c,       \
                           int64_t c0, f32x8 *acc) {                                                            \
        const int64_t n = g->x->count;                                                                          \
        f32x8 a = acc[c - c0];                                                                                  \
        for (int64_t k = 0; k < nb; k++) {                                                                      \
            const int64_t b = b0 + k;                                                                           \
            const rows8_k4_block *u = un + k;                                                                   \
            const int8_t *x = g->x->qs + c * n + 256 * b;                                                       \
            i32x8 sum = {0};                                                                                    \
            for (int s = 0; s < 8; s++) {                                                                       \
                i8x32 xb[8];                                                                                    \
                broadcast_words(x + 32 * s, xb);                                                                \
                sum += rows8_scaled_dot(u->q[s], xb, u->scale[s], (FIFTH) ? 31 : 15);                           \
            }                                                                                                   \
            const int16_t *sums = g->x->sums32 + c * (n / 32) + 8 * b;                                          \
            i32x8 minsum = {0};                                                                                 \
            for (int p = 0; p < 4; p++) {                                                                       \
                const uint32_t pair = load_u32(sums + 2 * p);                                                   \
                minsum += madd16(u->mins[p], (i16x16)(u32x8){pair, pair, pair, pair, pair, pair, pair, pair});  \
            }                                                                                                   \
            const f32x8 xd = splat8(g->x->scales[c * (n / 256) + b]);                                           \
            a = fma8(u->d * xd, to_float8(sum), a);                                                             \
            a = fma8(u->neg_dmin * xd, to_float8(minsum), a);                                                   \
        }                                                                                                       \
        acc[c - c0] = a;                                                                                        \
    }                                                                                                           \
    /* Rows r..<r + RT (RT ≤ 8; missing rows repeat the last) × columns c0..<c1 (≤ COLUMN_BLOCK). */            \
    INLINE void NAME(const gemm_ctx *g, int64_t r, int RT, int64_t c0, int64_t c1) {                             \
        f32x8 acc[COLUMN_BLOCK];                                                                                \
        for (int64_t j = 0; j < c1 - c0; j++) acc[j] = splat8(0);                                               \
        const uint8_t *rows[8];                                                                                 \
        rows8_pointers(g, r, RT, rows);                                                                         \
        rows8_k4_block un[ROWS8_K_SWEEP_BLOCKS];                                                                \
        for (int64_t b0 = 0; b0 < g->blocks; b0 += ROWS8_K_SWEEP_BLOCKS) {                                      \
            const int64_t nb = g->blocks - b0 < ROWS8_K_SWEEP_BLOCKS ? g->blocks - b0 : ROWS8_K_SWEEP_BLOCKS;   \
            for (int64_t k = 0; k < nb; k++) {                                                                  \
                prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b0 + k);                               \
                rows8_k4_unpack(rows, (b0 + k) * (BLOCK_BYTES), FIFTH, un + k);                                 \
            }                                                                                                   \
            for (int64_t c = c0; c < c1; c++) NAME##_run(g, un, b0, nb, c, c0, acc);                            \
        }                                                                                                       \
        for (int64_t j = 0; j < c1 - c0; j++)                                                                   \
            for (int i = 0; i < RT; i++) g->y[(c0 + j) * g->ldy + r + i] = acc[j][i];                            \
    }

ROWS8_K4(q4_K_rows8, 144, 0)
ROWS8_K4(q5_K_rows8, 176, 1)

/// Super-blocks a row-sequential pass (DIRECT_K4) takes at once: eight rows' Int32 sums of this
/// many stay on the stack (2 × 8 × 64 × 4 bytes; rows of up to 16,384 values take one run).
#define K4_RUN_BLOCKS 64
/// How far ahead of the super-block it reads DIRECT_K4 prefetches (its 144 or 176 bytes, three
/// lines): the tile's rows are one stream, so this reaches into the rows after, and past the tile's
/// end into the next tile's. 3 KB measured best of 1.5–12 KB (AMD Zen 3).
#define K4_PREFETCH_BYTES 3072

/// The 8 × 8 Int32 matrix m[i][j] (m[i] at `rows + i·stride`) transposed: out[j] lane i = m[i][j].
INLINE void transpose8(const int32_t *rows, int64_t stride, i32x8 out[8]) {
    i32x8 m[8];
    for (int i = 0; i < 8; i++) m[i] = load_i32x8(rows + i * stride);
    const i32x8 t0 = __builtin_shufflevector(m[0], m[1], 0, 8, 1, 9, 4, 12, 5, 13);
    const i32x8 t1 = __builtin_shufflevector(m[0], m[1], 2, 10, 3, 11, 6, 14, 7, 15);
    const i32x8 t2 = __builtin_shufflevector(m[2], m[3], 0, 8, 1, 9, 4, 12, 5, 13);
    const i32x8 t3 = __builtin_shufflevector(m[2], m[3], 2, 10, 3, 11, 6, 14, 7, 15);
    const i32x8 t4 = __builtin_shufflevector(m[4], m[5], 0, 8, 1, 9, 4, 12, 5, 13);
    const i32x8 t5 = __builtin_shufflevector(m[4], m[5], 2, 10, 3, 11, 6, 14, 7, 15);
    const i32x8 t6 = __builtin_shufflevector(m[6], m[7], 0, 8, 1, 9, 4, 12, 5, 13);
    const i32x8 t7 = __builtin_shufflevector(m[6], m[7], 2, 10, 3, 11, 6, 14, 7, 15);
    const i32x8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    const i32x8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    const i32x8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    const i32x8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    const i32x8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    const i32x8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    const i32x8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    const i32x8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    out[0] = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
    out[1] = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
    out[2] = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
    out[3] = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
    out[4] = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
    out[5] = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
    out[6] = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
    out[7] = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

/// Q4_K or Q5_K over eight rows for one column, where no other column would repay interleaving.
/// The rows are read one after another, each a run of super-blocks in its own order, so the tile is
/// one sequential stream that the hardware prefetcher follows (eight rows read side by side are
/// eight short streams, which it follows poorly). Each super-block gives kdot's Int32 lanes with
/// the sub-block scales applied; lane_sums8 over eight super-blocks gives a row's sums, and a
/// transpose puts them in ROWS8_K4's lanes (lane i = row i). The mins' products likewise. The Float
/// steps are ROWS8_K4's exactly.
#define DIRECT_K4(NAME, BLOCK_BYTES, FIFTH)                                                                       \
    /* Row `row`'s super-block b with the column's values x and sums: its Int32 lanes of Σ scale·(q·x) and of   \
       Σ min·(Σx). */                                                                                           \
    INLINE void NAME##_block(const uint8_t *row, int64_t b, const int8_t *x, const int16_t *xsums, i32x8 *lanes, \
                             i32x8 *min_lanes) {                                                                \
        const uint8_t *blk = row + b * (BLOCK_BYTES);                                                           \
        for (int line = 0; line < 3; line++) sparrow_prefetch(blk + K4_PREFETCH_BYTES + 64 * line);            \
        i16x8 sums;                                                                                             \
        memcpy(&sums, xsums, 16);                                                                               \
        i16x16 packed, scale[8];                                                                                \
        i16x8 mins;                                                                                             \
        k4_scales_mins_i16(blk + 4, &packed, &mins);                                                            \
        k4_scale_splats(packed, scale);                                                                         \
        i32x8 l = {0};                                                                                          \
        for (int p = 0; p < 4; p++) {                                                                           \
            u8x32 lo, hi;                                                                                       \
            k4_values(blk, FIFTH, p, &lo, &hi);                                                                 \
            l = kdot(l, lo, load_i8x32(x + 64 * p), scale[2 * p], splat16(0));                                  \
            l = kdot(l, hi, load_i8x32(x + 64 * p + 32), scale[2 * p + 1], splat16(0));                         \
        }                                                                                                       \
        *lanes = l;                                                                                             \
        *min_lanes = __builtin_convertvector(mins, i32x8) * __builtin_convertvector(sums, i32x8);               \
    }                                                                                                           \
    INLINE void NAME(const gemm_ctx *g, int64_t r, int RT, int64_t c0, int64_t c1) {                             \
        const int64_t n = g->x->count;                                                                          \
        f32x8 acc[COLUMN_BLOCK];                                                                                \
        for (int64_t j = 0; j < c1 - c0; j++) acc[j] = splat8(0);                                               \
        const uint8_t *rows[8];                                                                                 \
        rows8_pointers(g, r, RT, rows);                                                                         \
        /* [row][super-block of the run]: the rows' Int32 sums, as each row's pass leaves them; rows past RT   \
           (lanes never stored) stay 0. */                                                                      \
        int32_t row_sums[8][K4_RUN_BLOCKS] __attribute__((aligned(32)));                                        \
        int32_t row_mins[8][K4_RUN_BLOCKS] __attribute__((aligned(32)));                                        \
        for (int i = RT; i < 8; i++) {                                                                          \
            memset(row_sums[i], 0, sizeof row_sums[i]);                                                         \
            memset(row_mins[i], 0, sizeof row_mins[i]);                                                         \
        }                                                                                                       \
        for (int64_t b0 = 0; b0 < g->blocks; b0 += K4_RUN_BLOCKS) {                                             \
            const int64_t nb = g->blocks - b0 < K4_RUN_BLOCKS ? g->blocks - b0 : K4_RUN_BLOCKS;                 \
            for (int64_t c = c0; c < c1; c++) {                                                                 \
                const int8_t *x = g->x->qs + c * n + 256 * b0;                                                  \
                const int16_t *xsums = g->x->sums32 + c * (n / 32) + 8 * b0;                                    \
                for (int i = 0; i < RT; i++) {                                                                  \
                    for (int64_t k0 = 0; k0 < nb; k0 += 8) {                                                    \
                        i32x8 lanes[8], min_lanes[8];                                                           \
                        for (int j = 0; j < 8; j++) {                                                           \
                            const int64_t k = k0 + j;                                                           \
                            if (k < nb) NAME##_block(rows[i], b0 + k, x + 256 * k, xsums + 8 * k, lanes + j,   \
                                                     min_lanes + j);                                            \
                            else lanes[j] = min_lanes[j] = (i32x8){0};                                          \
                        }                                                                                       \
                        const i32x8 sum = lane_sums8(lanes), minsum = lane_sums8(min_lanes);                    \
                        memcpy(&row_sums[i][k0], &sum, 32);                                                     \
                        memcpy(&row_mins[i][k0], &minsum, 32);                                                  \
                    }                                                                                           \
                }                                                                                               \
                f32x8 a = acc[c - c0];                                                                          \
                for (int64_t k0 = 0; k0 < nb; k0 += 8) {                                                        \
                    i32x8 sum[8], minsum[8];                                                                    \
                    transpose8(&row_sums[0][k0], K4_RUN_BLOCKS, sum);                                           \
                    transpose8(&row_mins[0][k0], K4_RUN_BLOCKS, minsum);                                        \
                    for (int64_t k = k0; k < nb && k < k0 + 8; k++) {                                           \
                        const int64_t b = b0 + k, o = b * (BLOCK_BYTES);                                        \
                        const f32x8 d = halves8(rows, o), neg_dmin = -halves8(rows, o + 2);                     \
                        const f32x8 xd = splat8(g->x->scales[c * (n / 256) + b]);                               \
                        a = fma8(d * xd, to_float8(sum[k - k0]), a);                                            \
                        a = fma8(neg_dmin * xd, to_float8(minsum[k - k0]), a);                                  \
                    }                                                                                           \
                }                                                                                               \
                acc[c - c0] = a;                                                                                \
            }                                                                                                   \
        }                                                                                                       \
        for (int64_t j = 0; j < c1 - c0; j++)                                                                   \
            for (int i = 0; i < RT; i++) g->y[(c0 + j) * g->ldy + r + i] = acc[j][i];                            \
    }

DIRECT_K4(q4_K_direct, 144, 0)
DIRECT_K4(q5_K_direct, 176, 1)

/// Columns up to which Q4_K and Q5_K skip the interleaving (DIRECT_K4).
#ifndef DIRECT_COLUMNS_K4
#define DIRECT_COLUMNS_K4 1
#endif

DEFINE_GEMM_ROWS8(q4_K, DIRECT_COLUMNS_K4, q4_K_direct)
DEFINE_GEMM_ROWS8(q5_K, DIRECT_COLUMNS_K4, q5_K_direct)
