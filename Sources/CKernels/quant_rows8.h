// The 32-value formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), eight weight rows at a time with one row per
// lane. Included by quant_body.h, so compiled once per instruction set.
//
// The Float order: per weight row and activation column one Float, blocks in order; each block adds
// its exact Int32 dot product, converted to Float, times d_w·d_x, with one fused multiply-add. Q4_1
// and Q5_1 then add Σ m_w·s_x, summed block by block (a multiply, then an add). Nothing in it
// depends on the tile or the instruction set.
//
// That order lets eight rows share every Float instruction. A block's values are interleaved once,
// so that vector k holds values 4k..4k+3 of each of the eight rows (Int32 lane l = row l); the
// column's four values 4k..4k+3, broadcast, multiply all eight rows at once, and the eight
// products of a block add up in the row's own lane. The conversion, the scale product and the
// fused multiply-add then serve eight rows, not one. (llama.cpp repacks Q4_0 into the same shape
// when it loads a file.)

/// Eight rows' block, interleaved: `q[k]` lane l holds row l's values 4k..4k+3 as unsigned bytes
/// (Q8_0: its s8_operand); `w[k]` Q8_0's signed values; `d`, `m` the rows' scales and mins.
typedef struct rows8_block {
    u8x32 q[8];
    i8x32 w[8];
    f32x8 d, m;
} rows8_block;

/// The starts of rows r..<r + RT (RT ≤ 8) as eight rows: missing rows repeat the last, so a short
/// group reads only its own rows (and its extra lanes are not stored).
INLINE void rows8_pointers(const gemm_ctx *g, int64_t r, int RT, const uint8_t *rows[8]) {
    for (int i = 0; i < 8; i++) rows[i] = g->w + (r + (i < RT ? i : RT - 1)) * g->row_bytes;
}

/// A block of 8 × 32 values is 256 bytes, so a run of blocks unpacked at once stays in L1 beside the
/// columns it meets.
#define ROWS8_SWEEP_BLOCKS 16

/// Four consecutive 32-bit words from each of eight rows, transposed: `out[k]` lane l is word k of
/// `rows[l] + offset` (two 4 × 4 transposes, one per 128-bit half).
INLINE void interleave_words(const uint8_t *const rows[8], int64_t offset, u32x8 out[4]) {
    u32x8 a[4];
    for (int i = 0; i < 4; i++) {
        u32x4 lo, hi;
        memcpy(&lo, rows[i] + offset, 16);
        memcpy(&hi, rows[i + 4] + offset, 16);
        a[i] = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7);
    }
    const u32x8 t0 = __builtin_shufflevector(a[0], a[1], 0, 8, 1, 9, 4, 12, 5, 13);
    const u32x8 t1 = __builtin_shufflevector(a[0], a[1], 2, 10, 3, 11, 6, 14, 7, 15);
    const u32x8 t2 = __builtin_shufflevector(a[2], a[3], 0, 8, 1, 9, 4, 12, 5, 13);
    const u32x8 t3 = __builtin_shufflevector(a[2], a[3], 2, 10, 3, 11, 6, 14, 7, 15);
    out[0] = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    out[1] = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    out[2] = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    out[3] = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
}

/// Eight rows' 16 bytes of nibbles at `offset` as interleaved values: bytes 4k..4k+3's low nibbles
/// are values 4k..4k+3, their high nibbles values 16 + 4k..16 + 4k + 3.
INLINE void interleave_nibbles(const uint8_t *const rows[8], int64_t offset, u8x32 q[8]) {
    u32x8 words[4];
    interleave_words(rows, offset, words);
    for (int k = 0; k < 4; k++) {
        q[k] = (u8x32)words[k] & (uint8_t)0x0F;
        q[k + 4] = (u8x32)(words[k] >> 4) & (uint8_t)0x0F;
    }
}

/// Adds Q5's fifth bits (bit j of each row's 32-bit word at `offset` is value j's 0x10) to
/// interleaved values: vector k's byte m in lane l takes bit 4k + m of row l's word.
INLINE void add_fifth_bits(const uint8_t *const rows[8], int64_t offset, u8x32 q[8]) {
    const u32x8 h = {load_u32(rows[0] + offset), load_u32(rows[1] + offset), load_u32(rows[2] + offset),
                     load_u32(rows[3] + offset), load_u32(rows[4] + offset), load_u32(rows[5] + offset),
                     load_u32(rows[6] + offset), load_u32(rows[7] + offset)};
    const u8x32 bytes = (u8x32)h;
    const u8x32 low = {1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
    const u8x32 high = low << 4;
    // Byte `i` of each lane in all four of the lane's bytes.
#define SPREAD(i) __builtin_shufflevector(bytes, bytes, i, i, i, i, 4 + i, 4 + i, 4 + i, 4 + i, 8 + i, 8 + i, 8 + i,  \
                                          8 + i, 12 + i, 12 + i, 12 + i, 12 + i, 16 + i, 16 + i, 16 + i, 16 + i,      \
                                          20 + i, 20 + i, 20 + i, 20 + i, 24 + i, 24 + i, 24 + i, 24 + i, 28 + i,     \
                                          28 + i, 28 + i, 28 + i)
#define FIFTH(k, i, mask) q[k] |= (u8x32)((SPREAD(i) & mask) == mask) & (uint8_t)0x10
    FIFTH(0, 0, low); FIFTH(1, 0, high); FIFTH(2, 1, low); FIFTH(3, 1, high);
    FIFTH(4, 2, low); FIFTH(5, 2, high); FIFTH(6, 3, low); FIFTH(7, 3, high);
#undef FIFTH
#undef SPREAD
}

/// Eight rows' 32 signed bytes at `offset`, interleaved into `w`, and their dot_s8s8 operands.
INLINE void interleave_signed(const uint8_t *const rows[8], int64_t offset, rows8_block *u) {
    u32x8 words[8];
    interleave_words(rows, offset, words);
    interleave_words(rows, offset + 16, words + 4);
    for (int k = 0; k < 8; k++) {
        u->w[k] = (i8x32)words[k];
        u->q[k] = s8_operand(u->w[k]);
    }
}

/// The Float16 at `offset` in each of eight rows, widened (one `vcvtph2ps` under F16C).
INLINE f32x8 halves8(const uint8_t *const rows[8], int64_t offset) {
    typedef _Float16 f16x8 __attribute__((vector_size(16)));
    typedef uint64_t u64x2 __attribute__((vector_size(16)));
    // Gathered in general-purpose registers: inserting halves one by one into a vector would load
    // the shuffle units that the rest of a block's work needs.
    uint64_t w[2];
    for (int h = 0; h < 2; h++) {
        w[h] = 0;
        for (int i = 0; i < 4; i++) w[h] |= (uint64_t)load_u16(rows[4 * h + i] + offset) << (16 * i);
    }
    return __builtin_convertvector((f16x8)(u64x2){w[0], w[1]}, f32x8);
}

/// The column's values 4k..4k+3 of a block, in every lane.
INLINE void broadcast_words(const int8_t *x, i8x32 out[8]) {
    for (int k = 0; k < 8; k++) {
        const uint32_t v = load_u32(x + 4 * k);
        out[k] = (i8x32)(u32x8){v, v, v, v, v, v, v, v};
    }
}

/// Σ over a block of unsigned values (at most `max`) times the column, per row lane, plus `init`.
/// VNNI chains `vpdpbusd`; otherwise the Int16 pair sums of `vpmaddubsw` add up before one widening:
/// each is at most 2·max·128, so 8 of them (max 15) or 4 (max 31) stay below 2¹⁵.
INLINE i32x8 rows8_dot_unsigned(const u8x32 q[8], const i8x32 x[8], i32x8 init, int max) {
#if defined(VNNI) && VNNI
    (void)max;
    for (int k = 0; k < 8; k++) init = dot_u8s8(init, q[k], x[k]);
    return init;
#else
    if (max <= 15) {
        i16x16 s = maddubs16(q[0], x[0]);
        for (int k = 1; k < 8; k++) s += maddubs16(q[k], x[k]);
        return init + madd16(s, splat16(1));
    }
    i16x16 s0 = maddubs16(q[0], x[0]), s1 = maddubs16(q[4], x[4]);
    for (int k = 1; k < 4; k++) s0 += maddubs16(q[k], x[k]), s1 += maddubs16(q[k + 4], x[k + 4]);
    return init + madd16(s0, splat16(1)) + madd16(s1, splat16(1));
#endif
}

/// Σ over a block of signed values (Q8_0) times the column, per row lane; `neg128` is −128·Σx, which
/// VNNI's unsigned operand (w + 128) needs.
INLINE i32x8 rows8_dot_signed(const rows8_block *u, const i8x32 x[8], i32x8 neg128) {
#if defined(VNNI) && VNNI
    // q = w + 128 as unsigned bytes: Σ q·x = Σ w·x + 128·Σx.
    i32x8 s = neg128;
    for (int k = 0; k < 8; k++) s = dot_u8s8(s, u->q[k], x[k]);
    return s;
#else
    (void)neg128;
    i32x8 s = dot_s8s8(u->q[0], u->w[0], x[0]);
    for (int k = 1; k < 8; k++) s += dot_s8s8(u->q[k], u->w[k], x[k]);
    return s;
#endif
}

/// A 32-value format over eight rows: UNPACK fills `rows8_block *u` from `rows` at byte `o` (the
/// block's offset in each row); DOT gives the block's Int32 sums from `u`, the broadcast column `xb`
/// and `negsum` (−Σx of the column's block); WITH_MINS adds Σ m_w·s_x.
#define ROWS8_32(NAME, BLOCK_BYTES, UNPACK, DOT, WITH_MINS)                                                       \
    /* Column c over the unpacked blocks b0..<b0 + nb; its accumulators in acc[c − c0], mins[c − c0]. */         \
    INLINE void NAME##_run(const gemm_ctx *g, const rows8_block *un, int64_t b0, int64_t nb, int64_t c,          \
                           int64_t c0, f32x8 *acc, f32x8 *mins) {                                               \
        const int64_t n = g->x->count;                                                                          \
        f32x8 a = acc[c - c0], m = mins[c - c0];                                                                \
        for (int64_t k = 0; k < nb; k++) {                                                                      \
            const rows8_block *u = un + k;                                                                      \
            const int64_t block = c * (n / 32) + b0 + k;                                                        \
            i8x32 xb[8];                                                                                        \
            broadcast_words(g->x->qs + 32 * block, xb);                                                         \
            const int32_t negsum = g->x->neg_sums32[block];                                                     \
            (void)negsum;                                                                                       \
            const i32x8 s = DOT;                                                                                \
            a = fma8(u->d * splat8(g->x->scales[block]), to_float8(s), a);                                      \
            if (WITH_MINS) m = m + u->m * splat8(g->x->scaled_sums[block]);                                     \
        }                                                                                                       \
        acc[c - c0] = a, mins[c - c0] = m;                                                                      \
    }                                                                                                           \
    /* Rows r..<r + RT (RT ≤ 8; missing rows repeat the last) × columns c0..<c1 (≤ COLUMN_BLOCK): each   \
       run of ROWS8_SWEEP_BLOCKS blocks is unpacked once for all the columns. */                               \
    INLINE void NAME(const gemm_ctx *g, int64_t r, int RT, int64_t c0, int64_t c1) {                             \
        f32x8 acc[COLUMN_BLOCK], mins[COLUMN_BLOCK];                                                            \
        for (int64_t j = 0; j < c1 - c0; j++) acc[j] = splat8(0), mins[j] = splat8(0);                          \
        const uint8_t *rows[8];                                                                                 \
        rows8_pointers(g, r, RT, rows);                                                                         \
        rows8_block un[ROWS8_SWEEP_BLOCKS];                                                                     \
        for (int64_t b0 = 0; b0 < g->blocks; b0 += ROWS8_SWEEP_BLOCKS) {                                        \
            const int64_t nb = g->blocks - b0 < ROWS8_SWEEP_BLOCKS ? g->blocks - b0 : ROWS8_SWEEP_BLOCKS;       \
            for (int64_t k = 0; k < nb; k++) {                                                                  \
                prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b0 + k);                               \
                rows8_block *u = un + k;                                                                        \
                const int64_t o = (b0 + k) * (BLOCK_BYTES);                                                     \
                u->m = splat8(0);                                                                               \
                UNPACK;                                                                                         \
            }                                                                                                   \
            for (int64_t c = c0; c < c1; c++) NAME##_run(g, un, b0, nb, c, c0, acc, mins);                      \
        }                                                                                                       \
        for (int64_t j = 0; j < c1 - c0; j++)                                                                   \
            for (int i = 0; i < RT; i++) g->y[(c0 + j) * g->ldy + r + i] = acc[j][i] + mins[j][i];              \
    }

/// Columns up to which the 32-value formats skip the interleaving (DIRECT_32).
#ifndef DIRECT_COLUMNS_32
#define DIRECT_COLUMNS_32 2
#endif


// Q4_0: d, 16 bytes of nibbles; values nibble − 8, the −8 taken off as 8·(−Σx).
ROWS8_32(q4_0_rows8, 18, (u->d = halves8(rows, o), interleave_nibbles(rows, o + 2, u->q)),
         rows8_dot_unsigned(u->q, xb, (i32x8){0} + negsum * 8, 15), 0)
// Q4_1: d, m, 16 bytes of nibbles; values d·nibble + m.
ROWS8_32(q4_1_rows8, 20,
         (u->d = halves8(rows, o), u->m = halves8(rows, o + 2), interleave_nibbles(rows, o + 4, u->q)),
         rows8_dot_unsigned(u->q, xb, (i32x8){0}, 15), 1)
// Q5_0: d, 32 fifth bits, 16 bytes of nibbles; values (nibble | bit·16) − 16.
ROWS8_32(q5_0_rows8, 22,
         (u->d = halves8(rows, o), interleave_nibbles(rows, o + 6, u->q), add_fifth_bits(rows, o + 2, u->q)),
         rows8_dot_unsigned(u->q, xb, (i32x8){0} + negsum * 16, 31), 0)
// Q5_1: d, m, 32 fifth bits, 16 bytes of nibbles; values d·(nibble | bit·16) + m.
ROWS8_32(q5_1_rows8, 24,
         (u->d = halves8(rows, o), u->m = halves8(rows, o + 2), interleave_nibbles(rows, o + 8, u->q),
          add_fifth_bits(rows, o + 4, u->q)),
         rows8_dot_unsigned(u->q, xb, (i32x8){0}, 31), 1)
// Q8_0: d, 32 signed bytes, kept both signed and as the prepared operand of dot_s8s8.
ROWS8_32(q8_0_rows8, 34,
         (u->d = halves8(rows, o), interleave_signed(rows, o + 2, u)),
         rows8_dot_signed(u, xb, (i32x8){0} + negsum * 128), 0)

/// The eight Int32 vectors' lane sums, lane i of the result Σ v[i] (exact: any order of the additions
/// gives the same integers).
INLINE i32x8 lane_sums8(const i32x8 v[8]) {
    const i32x8 h01 = hadd32(v[0], v[1]), h23 = hadd32(v[2], v[3]), h45 = hadd32(v[4], v[5]), h67 = hadd32(v[6], v[7]);
    const i32x8 q0 = hadd32(h01, h23), q1 = hadd32(h45, h67);
    return __builtin_shufflevector(q0, q1, 0, 1, 2, 3, 8, 9, 10, 11) + __builtin_shufflevector(q0, q1, 4, 5, 6, 7, 12, 13, 14, 15);
}

/// Row a's 16 bytes in the low half, row b's in the high half.
INLINE u8x32 pair16(const uint8_t *a, const uint8_t *b) {
    const u8x16 lo = load_u8x16(a), hi = load_u8x16(b);
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                   21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
}

/// The 16 values at `x` in both halves.
INLINE i8x32 both_halves16(const int8_t *x) {
    i8x16 v;
    memcpy(&v, x, 16);
    return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7,
                                   8, 9, 10, 11, 12, 13, 14, 15);
}

/// Lane l: the four products of bytes 4l..4l+3 of a0·b0 plus those of a1·b1 (exact: the Int16 pair
/// sums stay below 2 · 2 · 31 · 128 < 2¹⁵ for the unsigned values up to 31 that call it).
#if defined(VNNI) && VNNI
INLINE i32x8 dot2_u8s8(u8x32 a0, i8x32 b0, u8x32 a1, i8x32 b1) {
    return dot_u8s8(dot_u8s8((i32x8){0}, a0, b0), a1, b1);
}
#else
INLINE i32x8 dot2_u8s8(u8x32 a0, i8x32 b0, u8x32 a1, i8x32 b1) {
    return madd16(maddubs16(a0, b0) + maddubs16(a1, b1), (i16x16){1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
}
#endif

/// A 32-value format over eight rows for one or two columns (NC, a constant), where no other column
/// would repay interleaving. Per block: the rows' scales (and mins, at MINS_AT, 0 for none), then
/// PREPARE, the block's rows unpacked once for the columns; per column, SUMS gives the eight rows'
/// exact Int32 sums (lane i for row i) from the column's 32 values `x` and `negsum` (−Σx), the same
/// integers as ROWS8_32's, and the Float steps are ROWS8_32's exactly.
#define DIRECT_32(NAME, BLOCK_BYTES, MINS_AT, PREPARE, SUMS)                                                      \
    INLINE void NAME##_columns(const gemm_ctx *g, int64_t r, int RT, int64_t c0, const int NC) {               \
        const int64_t n = g->x->count;                                                                          \
        f32x8 acc[2] = {splat8(0), splat8(0)}, mins[2] = {splat8(0), splat8(0)};                                \
        const uint8_t *rows[8];                                                                                 \
        rows8_pointers(g, r, RT, rows);                                                                         \
        for (int64_t b = 0; b < g->blocks; b++) {                                                               \
            prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b);                                        \
            const int64_t o = b * (BLOCK_BYTES);                                                                \
            const f32x8 d = halves8(rows, o);                                                                   \
            const f32x8 m = (MINS_AT) ? halves8(rows, o + (MINS_AT)) : splat8(0);                               \
            PREPARE;                                                                                            \
            for (int j = 0; j < NC; j++) {                                                                      \
                const int64_t block = (c0 + j) * (n / 32) + b;                                                  \
                const int8_t *x = g->x->qs + 32 * block;                                                        \
                const int32_t negsum = g->x->neg_sums32[block];                                                 \
                (void)negsum;                                                                                   \
                const i32x8 sums = SUMS;                                                                        \
                acc[j] = fma8(d * splat8(g->x->scales[block]), to_float8(sums), acc[j]);                        \
                if (MINS_AT) mins[j] = mins[j] + m * splat8(g->x->scaled_sums[block]);                          \
            }                                                                                                   \
        }                                                                                                       \
        for (int j = 0; j < NC; j++)                                                                            \
            for (int i = 0; i < RT; i++) g->y[(c0 + j) * g->ldy + r + i] = acc[j][i] + mins[j][i];              \
    }                                                                                                           \
    INLINE void NAME(const gemm_ctx *g, int64_t r, int RT, int64_t c0, int64_t c1) {                             \
        if (c1 - c0 == 1) NAME##_columns(g, r, RT, c0, 1);                                                      \
        else NAME##_columns(g, r, RT, c0, 2);                                                                   \
    }

_Static_assert(DIRECT_COLUMNS_32 <= 2, "DIRECT_32 takes one or two columns");

/// A 4- or 5-bit block of eight rows for DIRECT_32, rows k and k + 4 sharing a vector (k in the low
/// half, k + 4 in the high), so one split of the nibbles serves two rows: `low[k]` holds both rows'
/// values 0–15, `high[k]` values 16–31. `qs` is the nibbles' offset, `fifth` the fifth bits' (0 for
/// none).
INLINE void pairs_unpack(const uint8_t *const rows[8], int64_t qs, int64_t fifth, u8x32 low[4], u8x32 high[4]) {
    for (int k = 0; k < 4; k++) {
        const u8x32 v = pair16(rows[k] + qs, rows[k + 4] + qs);
        low[k] = v & (uint8_t)0x0F;
        high[k] = (u8x32)((u16x16)v >> 4) & (uint8_t)0x0F;
        if (fifth) {
            const uint32_t a = load_u32(rows[k] + fifth), c = load_u32(rows[k + 4] + fifth);
            low[k] |= fifth_bits32((a & 0xFFFFu) | (c << 16));
            high[k] |= fifth_bits32((a >> 16) | (c & 0xFFFF0000u));
        }
    }
}

/// The eight rows' sums of a pairs_unpack block with the column's values `x`: the values 0–15 and
/// 16–31 meet the rows in both halves, and three `vphaddd` put rows 0–7 in lanes 0–7.
INLINE i32x8 pairs_sums(const u8x32 low[4], const u8x32 high[4], const int8_t *x) {
    const i8x32 x0 = both_halves16(x), x1 = both_halves16(x + 16);
    i32x8 s[4];
    for (int k = 0; k < 4; k++) s[k] = dot2_u8s8(low[k], x0, high[k], x1);
    return hadd32(hadd32(s[0], s[1]), hadd32(s[2], s[3]));
}

#define PAIRS_PREPARE(QS_AT, FIFTH_AT) u8x32 low[4], high[4]; pairs_unpack(rows, o + (QS_AT), (FIFTH_AT) ? o + (FIFTH_AT) : 0, low, high)

// Q4_0 and Q5_0 take their −8 and −16 off as 8·(−Σx) and 16·(−Σx).
DIRECT_32(q4_0_direct, 18, 0, PAIRS_PREPARE(2, 0), pairs_sums(low, high, x) + negsum * 8)
DIRECT_32(q4_1_direct, 20, 2, PAIRS_PREPARE(4, 0), pairs_sums(low, high, x))
DIRECT_32(q5_0_direct, 22, 0, PAIRS_PREPARE(6, 2), pairs_sums(low, high, x) + negsum * 16)
DIRECT_32(q5_1_direct, 24, 2, PAIRS_PREPARE(8, 4), pairs_sums(low, high, x))

/// Q8_0's eight rows for DIRECT_32: each row's 32 signed bytes fill a vector, so rows do not pair.
/// `w` are the values at `qs`, `op` their s8_operand, prepared once for the block's columns.
INLINE void q8_0_rows_unpack(const uint8_t *const rows[8], int64_t qs, u8x32 op[8], i8x32 w[8]) {
    for (int i = 0; i < 8; i++) w[i] = load_i8x32(rows[i] + qs), op[i] = s8_operand(w[i]);
}

/// The eight rows' sums with the column's values `x`: each row's lanes are its own, and lane_sums8
/// sums them.
INLINE i32x8 q8_0_rows_sums(const u8x32 op[8], const i8x32 w[8], const int8_t *x) {
    const i8x32 xv = load_i8x32(x);
    i32x8 lanes[8];
#if defined(VNNI) && VNNI
    // s8_operand(w) = w + 128 as unsigned bytes: Σ (w + 128)·x = Σ w·x + 128·Σx, taken off by the caller.
    (void)w;
    for (int i = 0; i < 8; i++) lanes[i] = dot_u8s8((i32x8){0}, op[i], xv);
#else
    for (int i = 0; i < 8; i++) lanes[i] = dot_s8s8(op[i], w[i], xv);
#endif
    return lane_sums8(lanes);
}

#if defined(VNNI) && VNNI
#define Q8_0_CORRECTION negsum * 128
#else
#define Q8_0_CORRECTION 0
#endif
#define Q8_0_PREPARE u8x32 op[8]; i8x32 w[8]; q8_0_rows_unpack(rows, o + 2, op, w)
DIRECT_32(q8_0_direct, 34, 0, Q8_0_PREPARE, q8_0_rows_sums(op, w, x) + Q8_0_CORRECTION)

/// Rows r0..<r1 × columns c0..<c1 of a format with eight-row kernels: column blocks of COLUMN_BLOCK, within each
/// the rows in eights (the last group as many as are left).
#define DEFINE_GEMM_ROWS8(T, DIRECT_COLUMNS, DIRECT)                                                               \
    static void T##_gemm(const gemm_ctx *g, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {                   \
        for (int64_t cb = c0; cb < c1; cb += COLUMN_BLOCK) {                                                    \
            const int64_t ce = cb + COLUMN_BLOCK < c1 ? cb + COLUMN_BLOCK : c1;                                 \
            for (int64_t r = r0; r < r1; r += 8) {                                                              \
                const int rt = r1 - r < 8 ? (int)(r1 - r) : 8;                                                  \
                if (ce - cb <= (DIRECT_COLUMNS)) DIRECT(g, r, rt, cb, ce);                                      \
                else T##_rows8(g, r, rt, cb, ce);                                                               \
            }                                                                                                   \
        }                                                                                                       \
    }

DEFINE_GEMM_ROWS8(q4_0, DIRECT_COLUMNS_32, q4_0_direct)
DEFINE_GEMM_ROWS8(q4_1, DIRECT_COLUMNS_32, q4_1_direct)
DEFINE_GEMM_ROWS8(q5_0, DIRECT_COLUMNS_32, q5_0_direct)
DEFINE_GEMM_ROWS8(q5_1, DIRECT_COLUMNS_32, q5_1_direct)
DEFINE_GEMM_ROWS8(q8_0, DIRECT_COLUMNS_32, q8_0_direct)
