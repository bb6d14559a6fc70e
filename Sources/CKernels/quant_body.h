// The quantized kernels' bodies, written once and compiled once per instruction set: each
// `quant_<isa>.c` defines the integer dot-product primitives below for its instructions, the tile
// sizes, and SUFFIX, then includes this file.
//
// Primitives the including file defines (all exact integer arithmetic, so every variant gives the
// same integers):
//   i32x8 dot_u8s8(i32x8 init, u8x32 a, i8x32 b)   init + lane sums of 4 products a·b (a ≤ 128)
//   u8x32 s8_operand(i8x32 a)                      a as dot_s8s8's first operand, prepared once per weight block
//   i32x8 dot_s8s8(u8x32 op, i8x32 a, i8x32 b)     without VNNI: lane sums of 4 products a·b
//                                                  (op = s8_operand(a)); VNNI takes op = a + 128
//                                                  through dot_u8s8 and corrects by −128·Σb
//   i16x16 maddubs16(u8x32 a, i8x32 b)              pair sums a·b in Int16 (never saturating here)
//   i32x8 madd16(i16x16 a, i16x16 b)               pair sums a[2l]·b[2l] + a[2l + 1]·b[2l + 1] in Int32 (`vpmaddwd`)
//   i32x8 kdot(i32x8 acc, u8x32 q, i8x32 x, i16x16 scale, i16x16 offset)
//                                                  acc + pair sums of scale · (pair sums q·x − offset)
//
// The Float orders (see QuantizedMatMul.swift) depend on neither the tile a result is computed in
// nor the instruction set. The 32-value formats, Q4_K and Q5_K keep one Float per weight row and
// activation column (quant_rows8.h, quant_rows8_k4.h). Q6_K keeps eight Float lanes per row and
// column: each super-block's lane l adds its Int32 lane l, converted to Float and multiplied by the
// scale product, with one fused multiply-add, super-blocks in order; then ggml's `hsum_float_8`.
// That is the order of ggml's AVX2 `vec_dot` kernels.

#ifndef SUFFIX
#error "define SUFFIX before including quant_body.h"
#endif

/// While a tile reads block b of its RT rows, it prefetches the matching share of the next tile's
/// rows: those RT rows are one contiguous region, streamed in order, a 1/blocks share per block.
/// (The tile itself reads its rows as RT interleaved streams, which the hardware prefetcher follows
/// poorly; prefetching each row a fixed distance ahead would overshoot into this tile's own rows.)
INLINE void prefetch_next_tile(const uint8_t *w, int64_t row_bytes, int64_t blocks, int64_t r, int RT, int64_t b) {
    const int64_t step = (RT * row_bytes + blocks - 1) / blocks;
    const uint8_t *next = w + (r + RT) * row_bytes;
    for (int64_t o = (b * step) & ~(int64_t)63; o < (b + 1) * step; o += 64) sparrow_prefetch(next + o);
}
/// Columns whose activations are kept hot while a thread's rows pass over them.
#define COLUMN_BLOCK 16
/// Rows a tile holds at most (an including file may raise it).
#ifndef MAX_TILE
#define MAX_TILE 4
#endif

typedef struct gemm_ctx {
    const uint8_t *w;
    int64_t row_bytes;
    /// Blocks per row (of 32 or 256 values).
    int64_t blocks;
    const sparrow_q8_matrix *x;
    float *y;
    int64_t ldy;
} gemm_ctx;

// MARK: Tiles of Q6_K (super-blocks of 256)

INLINE i16x16 splat16(int v) {
    const int16_t s = (int16_t)v;
    return (i16x16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};
}

/// Q6_K's group `grp` of 32 values (half h = grp / 4, t = grp % 4): the low (t < 2) or high nibbles
/// of ql[64h + 32(t % 2) ..< +32] with bits 2t, 2t + 1 of qh[32h ..< +32] as bits 4–5, unsigned
/// (u = value + 32).
INLINE u8x32 k6_group(const uint8_t *blk, int grp) {
    const int h = grp / 4, t = grp % 4;
    const u8x32 ql = load_u8x32(blk + 64 * h + 32 * (t % 2));
    const u8x32 qh = load_u8x32(blk + 128 + 32 * h);
    // Shifts of 16-bit lanes and one mask per part: the bits a shift carries across a byte
    // boundary land outside the mask (a byte shift would cost a shift and a mask each way).
    const u8x32 low = t < 2 ? ql & (uint8_t)0x0F : (u8x32)((u16x16)ql >> 4) & (uint8_t)0x0F;
    const u8x32 high = t == 0 ? (u8x32)((u16x16)qh << 4) : t == 1 ? (u8x32)((u16x16)qh << 2)
                     : t == 2 ? qh : (u8x32)((u16x16)qh >> 2);
    return low | (high & (uint8_t)0x30);
}

/// Q6_K's 16 Int8 scales, group g's two (2g for its first 16 values, 2g + 1 for the rest) in eight
/// Int16 lanes each: the scales widened once, then one in-lane shuffle per group.
INLINE void k6_scale_splats(const uint8_t *blk, i16x16 out[8]) {
    i8x16 s;
    memcpy(&s, blk + 192, 16);
    const i16x16 a = __builtin_convertvector(__builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7), i16x16);
    const i16x16 b = __builtin_convertvector(__builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15), i16x16);
    // a and b hold eight scales twice; group k / 2's pair is lane k of the lower copy and lane
    // 8 + (k + 1) of the upper one.
#define K6_SPLAT(v, k) __builtin_shufflevector(v, v, k, k, k, k, k, k, k, k, k + 9, k + 9, k + 9, k + 9, k + 9, k + 9, k + 9, k + 9)
    out[0] = K6_SPLAT(a, 0), out[1] = K6_SPLAT(a, 2), out[2] = K6_SPLAT(a, 4), out[3] = K6_SPLAT(a, 6);
    out[4] = K6_SPLAT(b, 0), out[5] = K6_SPLAT(b, 2), out[6] = K6_SPLAT(b, 4), out[7] = K6_SPLAT(b, 6);
#undef K6_SPLAT
}

/// Q6_K: 128 bytes of low nibbles, 64 of high bit pairs, 16 Int8 scales (one per 16 values), d.
/// Group g of 32 values (half h = g / 4, t = g % 4) takes the low (t < 2) or high nibbles of
/// ql[64h + 32(t % 2) ..< +32] and bits 2t, 2t + 1 of qh[32h ..< +32]; its values are u − 32, taken
/// off as the pair sums of 32·x (ggml's `maddubs(32, x)`). Per super-block eight Int32 lanes
/// Σ_g scale·((u − 32)·x), fused as d·d_x.
INLINE void q6_K_narrow(const gemm_ctx *g, int64_t r, int64_t c, const int RT, const int CT) {
    f32x8 acc[MAX_TILE][MAX_TILE];
    for (int i = 0; i < RT; i++)
        for (int j = 0; j < CT; j++) acc[i][j] = splat8(0);
    const int64_t n = g->x->count;
    const u8x32 thirtyTwo = (u8x32){0} + (uint8_t)32;
    for (int64_t b = 0; b < g->blocks; b++) {
        const uint8_t *blk[MAX_TILE];
        prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b);
        for (int i = 0; i < RT; i++) blk[i] = g->w + (r + i) * g->row_bytes + b * 210;
        i32x8 sumi[MAX_TILE][MAX_TILE];
        for (int i = 0; i < RT; i++)
            for (int j = 0; j < CT; j++) sumi[i][j] = (i32x8){0};
        i16x16 scales[MAX_TILE][8];
        for (int i = 0; i < RT; i++) k6_scale_splats(blk[i], scales[i]);
        for (int grp = 0; grp < 8; grp++) {
            u8x32 u[MAX_TILE];
            for (int i = 0; i < RT; i++) u[i] = k6_group(blk[i], grp);
            for (int j = 0; j < CT; j++) {
                const i8x32 x = load_i8x32(g->x->qs + (c + j) * n + b * 256 + 32 * grp);
                const i16x16 offset = maddubs16(thirtyTwo, x);
                for (int i = 0; i < RT; i++) sumi[i][j] = kdot(sumi[i][j], u[i], x, scales[i][grp], offset);
            }
        }
        for (int j = 0; j < CT; j++) {
            const float xd = g->x->scales[(c + j) * (n / 256) + b];
            for (int i = 0; i < RT; i++)
                acc[i][j] = fma8(splat8(xd * half_to_float(blk[i] + 208)), to_float8(sumi[i][j]), acc[i][j]);
        }
    }
    for (int i = 0; i < RT; i++)
        for (int j = 0; j < CT; j++) g->y[(c + j) * g->ldy + r + i] = hsum8(acc[i][j]);
}

#ifdef WIDE_TILES
#include "quant_wide512.h"
/// Pairs of rows go to the 512-bit tiles, a single row to the 256-bit one (same bits either way).
#define PICK_TILE(T)                                                                                              \
    INLINE void T##_tile(const gemm_ctx *g, int64_t r, int64_t c, const int RT, const int CT) {                  \
        if (RT % 2 == 0) T##_wide(g, r, c, RT, CT); else T##_narrow(g, r, c, RT, CT);                           \
    }
#else
#define PICK_TILE(T)                                                                                              \
    INLINE void T##_tile(const gemm_ctx *g, int64_t r, int64_t c, const int RT, const int CT) {                  \
        T##_narrow(g, r, c, RT, CT);                                                                            \
    }
#endif
#ifdef WIDE_TILES
/// Row pairs over more columns than one tile holds go to the sweeps of quant_wide512.h.
#define SWEEPS(T, RT) ((RT) % 2 == 0)
#define SWEEP(T) T##_sweep
#else
#ifdef K_SWEEPS
#include "quant_ksweep.h"
#define SWEEPS_Q6 1
#define SWEEP_Q6 q6_K_sweep
#else
#define SWEEPS_Q6 0
#define SWEEP_Q6 SWEEP_NONE
#endif

/// Q6_K sweeps over wide column ranges where K_SWEEPS is defined.
#define SWEEPS(T, RT) SWEEPS_##T
#define SWEEP(T) SWEEP_##T
#define SWEEPS_q6_K SWEEPS_Q6
#define SWEEP_q6_K SWEEP_Q6
INLINE void SWEEP_NONE(const gemm_ctx *g, int64_t r, int64_t c0, int64_t c1, const int RT, const int CT) {
    (void)g, (void)r, (void)c0, (void)c1, (void)RT, (void)CT;
}
#endif
PICK_TILE(q6_K)

// MARK: Drivers

/// Rows r0..<r1 × columns c0..<c1 of one type: column blocks of COLUMN_BLOCK, within each the rows
/// in tiles of RT (the rest in fours, pairs, then one by one), the columns in tiles of CT (the rest in one smaller tile).
/// A single column takes row tiles of RT_ONE first: with one column a tile holds few accumulators,
/// so more rows fit, and they share the column's loads.
#define DEFINE_GEMM(T, RT_FULL, CT_FULL, RT_ONE)                                                                \
    INLINE void T##_tile_columns(const gemm_ctx *g, int64_t r, int64_t c0, int64_t c1, const int RT) {          \
        int64_t c = c0;                                                                                         \
        for (; c + (CT_FULL) <= c1; c += (CT_FULL)) T##_tile(g, r, c, RT, (CT_FULL));                           \
        switch (c1 - c) {                                                                                       \
        case 1: T##_tile(g, r, c, RT, 1); break;                                                                \
        case 2: if ((CT_FULL) > 2) T##_tile(g, r, c, RT, 2); break;                                             \
        case 3: if ((CT_FULL) > 3) T##_tile(g, r, c, RT, 3); break;                                             \
        case 4: if ((CT_FULL) > 4) T##_tile(g, r, c, RT, 4); break;                                             \
        case 5: if ((CT_FULL) > 5) T##_tile(g, r, c, RT, 5); break;                                             \
        case 6: if ((CT_FULL) > 6) T##_tile(g, r, c, RT, 6); break;                                             \
        case 7: if ((CT_FULL) > 7) T##_tile(g, r, c, RT, 7); break;                                             \
        default: break;                                                                                         \
        }                                                                                                       \
    }                                                                                                           \
    INLINE void T##_columns(const gemm_ctx *g, int64_t r, int64_t c0, int64_t c1, const int RT) {               \
        if (SWEEPS(T, RT) && c1 - c0 > (CT_FULL)) SWEEP(T)(g, r, c0, c1, RT, (CT_FULL));                        \
        else T##_tile_columns(g, r, c0, c1, RT);                                                                \
    }                                                                                                           \
    static void T##_gemm(const gemm_ctx *g, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {                   \
        for (int64_t cb = c0; cb < c1; cb += COLUMN_BLOCK) {                                                    \
            const int64_t ce = cb + COLUMN_BLOCK < c1 ? cb + COLUMN_BLOCK : c1;                                 \
            int64_t r = r0;                                                                                     \
            if ((RT_ONE) > (RT_FULL) && ce - cb == 1)                                                           \
                for (; r + (RT_ONE) <= r1; r += (RT_ONE)) T##_columns(g, r, cb, ce, (RT_ONE));                  \
            for (; r + (RT_FULL) <= r1; r += (RT_FULL)) T##_columns(g, r, cb, ce, (RT_FULL));                   \
            if ((RT_FULL) > 4)                                                                                  \
                for (; r + 4 <= r1; r += 4) T##_columns(g, r, cb, ce, 4);                                       \
            if ((RT_FULL) > 2)                                                                                  \
                for (; r + 2 <= r1; r += 2) T##_columns(g, r, cb, ce, 2);                                       \
            for (; r < r1; r++) T##_columns(g, r, cb, ce, 1);                                                   \
        }                                                                                                       \
    }


/// Q6_K's row tile for a single column (decoding), where a variant does not set a larger one.
#ifndef RT_Q6_ONE
#define RT_Q6_ONE RT_Q6
#endif
_Static_assert(RT_Q6 <= MAX_TILE && CT_Q6 <= MAX_TILE && RT_Q6_ONE <= MAX_TILE,
               "a tile larger than MAX_TILE overruns the tiles' arrays");

#include "quant_rows8.h"
#include "quant_rows8_k4.h"
DEFINE_GEMM(q6_K, RT_Q6, CT_Q6, RT_Q6_ONE)

int SUFFIX(sparrow_qgemm)(int type, const void *weights, int64_t row_bytes, int64_t row_length, int64_t r0,
                          int64_t r1, const sparrow_q8_matrix *x, int64_t c0, int64_t c1, float *y, int64_t ldy) {
    const int k = type >= 10 ? 256 : 32;
    const gemm_ctx g = {(const uint8_t *)weights, row_bytes, row_length / k, x, y, ldy};
    switch (type) {
    case 2: q4_0_gemm(&g, r0, r1, c0, c1); return 0;
    case 3: q4_1_gemm(&g, r0, r1, c0, c1); return 0;
    case 6: q5_0_gemm(&g, r0, r1, c0, c1); return 0;
    case 7: q5_1_gemm(&g, r0, r1, c0, c1); return 0;
    case 8: q8_0_gemm(&g, r0, r1, c0, c1); return 0;
    case 12: q4_K_gemm(&g, r0, r1, c0, c1); return 0;
    case 13: q5_K_gemm(&g, r0, r1, c0, c1); return 0;
    case 14: q6_K_gemm(&g, r0, r1, c0, c1); return 0;
    default: return -1;
    }
}

// MARK: Activation quantization

#include "quant_activation.h"
