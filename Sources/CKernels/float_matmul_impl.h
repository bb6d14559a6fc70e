// The Float matrix product's one body (CKernelsFloatMatMul.h), compiled once per instruction set:
// float_matmul_portable.c, float_matmul_avx2.c and float_matmul_avx512.c each define
// SPARROW_VARIANT (the suffix of the entry point), LANES (the width of their vectors, 16 or 8),
// TILE_ROWS × TILE_COLUMNS (the register tile), COLUMN_BLOCK and RUN_BYTES (the cache blocking),
// include this file, then define the two primitives declared below.
//
// Every (row, column) result has its own 16 lane sums, kept as 16 / LANES vectors of LANES lanes:
// lane l of the order in CKernelsFloatMatMul.h is lane l % LANES of vector l / LANES. A variant
// with 8 lanes does the same fused multiply-adds as one with 16, in another sequence between
// independent lanes, so each lane's chain of operations — and every bit — is the same. Additions are
// never reassociated (contraction is off) and the lanes are reduced in one fixed tree. A tile only
// decides which results are computed side by side, so that each weight vector loaded serves
// TILE_COLUMNS columns and each activation vector TILE_ROWS rows.
#pragma clang fp contract(off)
// Vectors pass between this file's functions by value; every function taking one is static and
// inlined.
#pragma clang diagnostic ignored "-Wpsabi"

#include <stdint.h>
#include <string.h>

#include "CKernels.h"

#if !defined(SPARROW_VARIANT) || !defined(LANES) || !defined(TILE_ROWS) || !defined(TILE_COLUMNS) || \
    !defined(COLUMN_BLOCK) || !defined(RUN_BYTES)
#error "define SPARROW_VARIANT, LANES, TILE_ROWS, TILE_COLUMNS, COLUMN_BLOCK and RUN_BYTES before including float_matmul_impl.h"
#endif
#if TILE_COLUMNS > 8
#error "TILE_COLUMNS is at most 8"
#endif
#define SPARROW_JOIN2(name, variant) name##_##variant
#define SPARROW_JOIN(name, variant) SPARROW_JOIN2(name, variant)
#define VARIANT(name) SPARROW_JOIN(name, SPARROW_VARIANT)
#define INLINE static inline __attribute__((always_inline))

typedef float vf16 __attribute__((ext_vector_type(16)));
typedef float vf8 __attribute__((ext_vector_type(8)));
typedef float vf4 __attribute__((ext_vector_type(4)));
typedef float vf2 __attribute__((ext_vector_type(2)));

#if LANES == 16
typedef vf16 vfl;
typedef uint16_t vh_l __attribute__((ext_vector_type(16)));
typedef uint32_t vu_l __attribute__((ext_vector_type(16)));
#elif LANES == 8
typedef vf8 vfl;
typedef uint16_t vh_l __attribute__((ext_vector_type(8)));
typedef uint32_t vu_l __attribute__((ext_vector_type(8)));
#else
#error "LANES is 16 or 8"
#endif
/// Vectors per 16 lane sums.
#define GROUPS (16 / LANES)

/// The ggml type ids of the weights.
enum { TYPE_F32 = 0, TYPE_F16 = 1, TYPE_BF16 = 30 };

// The primitives the including file defines for its instruction set.

/// a · b + c in each lane, rounded once.
static inline vfl fma_l(vfl a, vfl b, vfl c);
/// The LANES binary16 values at `p` (no alignment needed), widened (exactly).
static inline vfl widen_half_l(const uint8_t *p);

// MARK: Loads

/// LANES Floats at `p` (rows are at most 4-byte aligned, weights of a mapped file not even that).
INLINE vfl load_floats(const void *p) {
    vfl v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// bfloat16 is the top half of a Float: widening is a shift.
INLINE vfl widen_bfloat(const uint8_t *p) {
    vh_l h;
    memcpy(&h, p, sizeof h);
    return (vfl)(__builtin_convertvector(h, vu_l) << 16);
}

/// The LANES weights of `type` from element k of the row at `row`, as Floats. `type` is a constant
/// wherever this is inlined.
INLINE vfl load_weights(const uint8_t *row, int64_t k, const int type) {
    switch (type) {
    case TYPE_F16: return widen_half_l(row + 2 * k);
    case TYPE_BF16: return widen_bfloat(row + 2 * k);
    default: return load_floats(row + 4 * k);
    }
}

INLINE int64_t element_bytes(const int type) { return type == TYPE_F32 ? 4 : 2; }

// MARK: Lane sums

/// The 16 lane sums of one result added pairwise: lane l + lane l + 8, then the same with 4, 2
/// and 1 (attention_impl.h's `sum16`).
INLINE float sum16(const vfl lanes[GROUPS]) {
#if LANES == 16
    const vf16 v = lanes[0];
#else
    const vf16 v = __builtin_shufflevector(lanes[0], lanes[1], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#endif
    const vf8 a = v.lo + v.hi;
    const vf4 b = a.lo + a.hi;
    const vf2 c = b.lo + b.hi;
    return c.x + c.y;
}

// MARK: Tiles

typedef struct float_gemm {
    const uint8_t *w;
    int64_t row_bytes;
    /// Values per row (and per column of x).
    int64_t n;
    const float *x;
    int64_t ldx;
    float *y;
    int64_t ldy;
} float_gemm;

/// One group of 16 values from element k on, for every (row, column) pair of an R × C tile: the
/// weight vectors of the R rows are loaded once and each serves the C columns.
#define TILE_STEP(W, WSTRIDE, X, XSTRIDE, k)                                                                  \
    for (int h = 0; h < GROUPS; h++) {                                                                       \
        vfl wv[TILE_ROWS];                                                                                   \
        for (int i = 0; i < R; i++) wv[i] = load_weights((W) + i * (WSTRIDE), (k) + h * LANES, type);      \
        for (int j = 0; j < C; j++) {                                                                        \
            const vfl xv = load_floats((X) + j * (XSTRIDE) + (k) + h * LANES);                              \
            for (int i = 0; i < R; i++) acc[i][j][h] = fma_l(wv[i], xv, acc[i][j][h]);                        \
        }                                                                                                    \
    }

/// Rows r ..< r + R times columns c ..< c + C over the values k0 ..< k1 (k0 a multiple of 16, k1 a
/// multiple of 16 or n): R × C × 16 lane sums in registers, starting from +0 when k0 is 0, else from
/// `partial`; at the end reduced into y when k1 is n, else stored back to `partial`. A run that
/// stops and resumes so continues each lane's chain of fused multiply-adds exactly where it was: the
/// bits do not depend on the runs. R, C and `type` are constants wherever this is inlined.
INLINE void tile(const float_gemm *g, int64_t r, int64_t c, const int R, const int C, const int type, int64_t k0,
                 int64_t k1, vfl *partial) {
    vfl acc[TILE_ROWS][TILE_COLUMNS][GROUPS];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            for (int h = 0; h < GROUPS; h++) acc[i][j][h] = k0 == 0 ? (vfl)0.0f : partial[(i * C + j) * GROUPS + h];
    const uint8_t *const w = g->w + r * g->row_bytes;
    const float *const x = g->x + c * g->ldx;
    const int64_t whole = k1 / 16 * 16;
    for (int64_t k = k0; k < whole; k += 16) TILE_STEP(w, g->row_bytes, x, g->ldx, k)
    if (whole < k1) {
        // The last partial group, from zero-padded copies.
        const int64_t rest = k1 - whole, size = element_bytes(type);
        uint8_t wpad[TILE_ROWS][16 * 4];
        float xpad[TILE_COLUMNS][16];
        memset(wpad, 0, sizeof wpad);
        memset(xpad, 0, sizeof xpad);
        for (int i = 0; i < R; i++) memcpy(wpad[i], w + i * g->row_bytes + whole * size, (size_t)(rest * size));
        for (int j = 0; j < C; j++) memcpy(xpad[j], x + j * g->ldx + whole, (size_t)rest * sizeof(float));
        TILE_STEP(&wpad[0][0], 16 * 4, &xpad[0][0], 16, 0)
    }
    if (k1 == g->n) {
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++) g->y[(c + j) * g->ldy + r + i] = sum16(acc[i][j]);
    } else {
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++)
                for (int h = 0; h < GROUPS; h++) partial[(i * C + j) * GROUPS + h] = acc[i][j][h];
    }
}

/// A tile of R rows and `columns` (1 ... TILE_COLUMNS) columns.
INLINE void tile_of(const float_gemm *g, int64_t r, int64_t c, const int R, int64_t columns, const int type,
                    int64_t k0, int64_t k1, vfl *partial) {
    switch (columns) {
    case 1: tile(g, r, c, R, 1, type, k0, k1, partial); break;
#if TILE_COLUMNS >= 2
    case 2: tile(g, r, c, R, 2, type, k0, k1, partial); break;
#endif
#if TILE_COLUMNS >= 3
    case 3: tile(g, r, c, R, 3, type, k0, k1, partial); break;
#endif
#if TILE_COLUMNS >= 4
    case 4: tile(g, r, c, R, 4, type, k0, k1, partial); break;
#endif
#if TILE_COLUMNS >= 5
    case 5: tile(g, r, c, R, 5, type, k0, k1, partial); break;
#endif
#if TILE_COLUMNS >= 6
    case 6: tile(g, r, c, R, 6, type, k0, k1, partial); break;
#endif
#if TILE_COLUMNS >= 7
    case 7: tile(g, r, c, R, 7, type, k0, k1, partial); break;
#endif
#if TILE_COLUMNS >= 8
    case 8: tile(g, r, c, R, 8, type, k0, k1, partial); break;
#endif
    default: break;
    }
}

/// R rows from r times the columns cb ..< ce (at most COLUMN_BLOCK): the values in runs of `run`,
/// each run through every tile of columns, so the rows' run (R × run weights, at most RUN_BYTES)
/// stays in L1 while the tiles of columns pass over it. Between runs each tile's lane sums wait in
/// `partial` (R × COLUMN_BLOCK × 16 Floats).
INLINE void rows_by_columns(const float_gemm *g, int64_t r, const int R, int64_t cb, int64_t ce, int64_t run,
                            const int type, vfl *partial) {
    for (int64_t k0 = 0;;) {
        const int64_t k1 = g->n - k0 > run ? k0 + run : g->n;
        for (int64_t c = cb; c < ce; c += TILE_COLUMNS) {
            tile_of(g, r, c, R, ce - c < TILE_COLUMNS ? ce - c : TILE_COLUMNS, type, k0, k1,
                    partial + (c - cb) * R * GROUPS);
        }
        if (k1 == g->n) break;
        k0 = k1;
    }
}

/// Rows r0 ..< r1 × columns c0 ..< c1 of one type: blocks of COLUMN_BLOCK columns (kept in cache
/// while the rows pass over them), within each the rows in tiles of TILE_ROWS (the rest one by one)
/// and the columns in tiles of TILE_COLUMNS (the rest in one smaller tile). Rows whose tile would
/// not stay in L1 are taken in runs of values (F32 rows beyond 1024 values on AVX-512); columns
/// that fit one tile read each weight once anyway, and take the rows whole.
INLINE void gemm(const float_gemm *g, int64_t r0, int64_t r1, int64_t c0, int64_t c1, const int type) {
    vfl partial[TILE_ROWS * COLUMN_BLOCK * GROUPS];
    const int64_t fits = RUN_BYTES / (TILE_ROWS * element_bytes(type)) / 16 * 16;
    const int64_t run = c1 - c0 > TILE_COLUMNS && fits < g->n ? fits : g->n;
    for (int64_t cb = c0; cb < c1; cb += COLUMN_BLOCK) {
        const int64_t ce = cb + COLUMN_BLOCK < c1 ? cb + COLUMN_BLOCK : c1;
        int64_t r = r0;
        for (; r + TILE_ROWS <= r1; r += TILE_ROWS) rows_by_columns(g, r, TILE_ROWS, cb, ce, run, type, partial);
        for (; r < r1; r++) rows_by_columns(g, r, 1, cb, ce, run, type, partial);
    }
}

// MARK: Entry point (declared in float_matmul.c)

int VARIANT(sparrow_float_matmul)(int type, const void *weights, int64_t row_bytes, int64_t row_length,
                                  int64_t row_begin, int64_t row_end, const float *x, int64_t ldx,
                                  int64_t col_begin, int64_t col_end, float *y, int64_t ldy) {
    const float_gemm g = {(const uint8_t *)weights, row_bytes, row_length, x, ldx, y, ldy};
    switch (type) {
    case TYPE_F32: gemm(&g, row_begin, row_end, col_begin, col_end, TYPE_F32); return 0;
    case TYPE_F16: gemm(&g, row_begin, row_end, col_begin, col_end, TYPE_F16); return 0;
    case TYPE_BF16: gemm(&g, row_begin, row_end, col_begin, col_end, TYPE_BF16); return 0;
    default: return -1;
    }
}
