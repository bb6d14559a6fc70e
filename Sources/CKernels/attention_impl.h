// The attention kernels' one body, compiled once per instruction set: attention_portable.c,
// attention_avx2.c and attention_avx512.c each define SPARROW_VARIANT (the suffix of the function
// names) and include this file, then define the three primitives declared below for their
// instruction set. Everything else is written here once, on 16-lane vectors (clang's
// `ext_vector_type`), so every variant performs the same Float operations in the same order and
// computes the same bits: additions are never reassociated, multiply-adds are fused only where
// `fma16` says so (contraction is off), and lane sums are reduced in one fixed tree.
#pragma clang fp contract(off)
// Vectors of 16 pass between this file's functions by value; the calling convention of a vector
// wider than the target's registers only matters across files, and every function taking one is
// static.
#pragma clang diagnostic ignored "-Wpsabi"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "CKernels.h"

#ifndef SPARROW_VARIANT
#error "define SPARROW_VARIANT before including attention_impl.h"
#endif
#define SPARROW_JOIN2(name, variant) name##_##variant
#define SPARROW_JOIN(name, variant) SPARROW_JOIN2(name, variant)
#define VARIANT(name) SPARROW_JOIN(name, SPARROW_VARIANT)

typedef float vf16 __attribute__((ext_vector_type(16)));
typedef float vf8 __attribute__((ext_vector_type(8)));
typedef float vf4 __attribute__((ext_vector_type(4)));
typedef float vf2 __attribute__((ext_vector_type(2)));
typedef double vd16 __attribute__((ext_vector_type(16)));
typedef double vd8 __attribute__((ext_vector_type(8)));
typedef double vd4 __attribute__((ext_vector_type(4)));
typedef double vd2 __attribute__((ext_vector_type(2)));
typedef int32_t vi16 __attribute__((ext_vector_type(16)));

// The primitives the including file defines for its instruction set.

/// a · b + c in each lane, rounded once.
static inline vf16 fma16(vf16 a, vf16 b, vf16 c);
/// The 16 binary16 values at `p`, widened (exactly).
static inline vf16 widen16(const uint16_t *p);
/// Stores `x` at `p` as 16 binary16 values, rounded to nearest even.
static inline void narrow16(vf16 x, uint16_t *p);

// MARK: Vector helpers

static inline vf16 splat(float value) {
    vf16 v = value;
    return v;
}

/// Loads and stores go through memcpy: rows are only 4-byte aligned.
static inline vf16 load16(const float *p) {
    vf16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store16(float *p, vf16 v) { memcpy(p, &v, sizeof v); }

/// The first `count` (< 16) Floats at `p`, the other lanes 0.
static inline vf16 load_partial(const float *p, int64_t count) {
    float lanes[16] = {0};
    memcpy(lanes, p, (size_t)count * sizeof(float));
    return load16(lanes);
}

static inline void store_partial(float *p, vf16 v, int64_t count) {
    float lanes[16];
    store16(lanes, v);
    memcpy(p, lanes, (size_t)count * sizeof(float));
}

/// 16 cache entries from `index` on, Float or binary16. `always_inline` so that a constant `half`
/// removes the branch from the loops below.
static inline __attribute__((always_inline)) vf16 load_entries(const void *base, int64_t index, int half) {
    if (half) return widen16((const uint16_t *)base + index);
    return load16((const float *)base + index);
}

/// The first `count` (< 16) entries from `index` on, the other lanes 0.
static inline __attribute__((always_inline)) vf16 load_entries_partial(const void *base, int64_t index,
                                                                       int64_t count, int half) {
    if (half) {
        uint16_t lanes[16] = {0};
        memcpy(lanes, (const uint16_t *)base + index, (size_t)count * sizeof(uint16_t));
        return widen16(lanes);
    }
    return load_partial((const float *)base + index, count);
}

/// Lane by lane, `a` where `mask` is set (all ones), else `b`.
static inline vf16 select16(vi16 mask, vf16 a, vf16 b) { return (vf16)(((vi16)a & mask) | ((vi16)b & ~mask)); }

/// The 16 lanes added pairwise: lane l + lane l + 8, then the same with 4, 2 and 1.
static inline float sum16(vf16 v) {
    const vf8 a = v.lo + v.hi;
    const vf4 b = a.lo + a.hi;
    const vf2 c = b.lo + b.hi;
    return c.x + c.y;
}

static inline double sum16d(vd16 v) {
    const vd8 a = v.lo + v.hi;
    const vd4 b = a.lo + a.hi;
    const vd2 c = b.lo + b.hi;
    return c.x + c.y;
}

/// The largest lane (NaN lanes never win), reduced in the same tree as `sum16`.
static inline float max16(vf16 v) {
    float lanes[16];
    store16(lanes, v);
    for (int width = 8; width >= 1; width /= 2) {
        for (int l = 0; l < width; l++) lanes[l] = lanes[l + width] > lanes[l] ? lanes[l + width] : lanes[l];
    }
    return lanes[0];
}

/// Rounds every lane to binary16 and back.
static inline vf16 round_half16(vf16 x) {
    uint16_t halves[16];
    narrow16(x, halves);
    return widen16(halves);
}

/// e^x for x ≤ 88 (Cephes' `expf`): x = n·ln 2 + r with n = round(x·log2 e) (to nearest even) and
/// |r| ≤ ln 2 / 2, e^r by a degree-7 polynomial in Horner form with fused multiply-adds, times 2ⁿ
/// built in the exponent bits. Below −87 the result is 0 (e^−87 ≈ 1.6·10⁻³⁸: the softmax's sum is
/// at least 1, so such terms vanish in it anyway), −∞ included; NaN stays NaN. About 1 ulp.
static inline vf16 exp16(vf16 x) {
    const vi16 nan = x != x, tiny = x < -87.0f;
    vf16 t = select16(nan | tiny, splat(0), x);
    t = select16(t > 88.0f, splat(88.0f), t);
    // Adding then subtracting 1.5·2²³ rounds to an integer, nearest even.
    const vf16 n = (t * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    vf16 r = fma16(n, splat(-0.693359375f), t);
    r = fma16(n, splat(2.12194440e-4f), r);
    vf16 y = splat(1.9875691500e-4f);
    y = fma16(y, r, splat(1.3981999507e-3f));
    y = fma16(y, r, splat(8.3334519073e-3f));
    y = fma16(y, r, splat(4.1665795894e-2f));
    y = fma16(y, r, splat(1.6666665459e-1f));
    y = fma16(y, r, splat(5.0000001201e-1f));
    y = fma16(y, r * r, r) + 1.0f;
    const vi16 exponent = (__builtin_convertvector(n, vi16) + 127) << 23;
    y = y * (vf16)exponent;
    return select16(nan, x, select16(tiny, splat(0), y));
}

// MARK: One (row, head) pair

/// Where a position's rows are: the entry offset of position `position`'s row in the keys (and the
/// values), and how many positions from it on lie in consecutive rows (to the end of its block).
static inline int64_t row_offset(const sparrow_attention_problem *p, int64_t position, int64_t kv_width,
                                 int64_t *run) {
    if (!p->block_table) {
        *run = INT64_MAX;
        return position * kv_width;
    }
    const int64_t block = position / p->block_size, within = position % p->block_size;
    *run = p->block_size - within;
    return (int64_t)p->block_table[block] * p->block_stride + within * kv_width;
}

/// scores[j] = scale · (q · k_{first + j}) for j < n, where the keys of kv head offset `head_at`
/// are read through `row_offset`; then −∞ up to the next multiple of 16. The d products of a dot
/// product are fused into 16 lanes (lane l takes the elements l, l + 16, …, a partial last block
/// padded with zeros) in increasing order, then `sum16`.
static inline __attribute__((always_inline)) void scores_of(const sparrow_attention_problem *p, const float *q,
                                                            int64_t first, int64_t head_at, int64_t n,
                                                            float *scores, int half) {
    const int64_t d = p->head_dim, kv_width = p->kv_heads * d, whole = d / 16 * 16;
    const void *keys = p->keys;
    const float scale = p->scale;
    for (int64_t j = 0; j < n;) {
        int64_t run;
        int64_t at = row_offset(p, first + j, kv_width, &run) + head_at;
        const int64_t end = run < n - j ? j + run : n;
        for (; j < end; j++, at += kv_width) {
            vf16 acc = splat(0);
            for (int64_t c = 0; c < whole; c += 16) acc = fma16(load16(q + c), load_entries(keys, at + c, half), acc);
            if (whole < d) {
                acc = fma16(load_partial(q + whole, d - whole),
                            load_entries_partial(keys, at + whole, d - whole, half), acc);
            }
            scores[j] = scale * sum16(acc);
        }
    }
    for (int64_t j = n; j % 16 != 0; j++) scores[j] = -INFINITY;
}

/// The softmax of scores[0 ..< n] in place (the −∞ padding to a multiple of 16 becomes 0):
/// m = max, e = exp16(s − m), Σe in Double in 16 lanes (lane l takes j ≡ l mod 16 in increasing j)
/// then `sum16d`, p = e · Float(1 / Σe), rounded to binary16 if `round_half`. All −∞ gives all 0.
static inline void softmax(float *scores, int64_t n, int round_half) {
    const int64_t padded = (n + 15) / 16 * 16;
    vf16 best = splat(-INFINITY);
    for (int64_t j = 0; j < padded; j += 16) {
        const vf16 s = load16(scores + j);
        best = select16(s > best, s, best);
    }
    const float maximum = max16(best);
    if (!(maximum > -INFINITY)) {
        memset(scores, 0, (size_t)padded * sizeof(float));
        return;
    }
    vd16 total = 0;
    for (int64_t j = 0; j < padded; j += 16) {
        const vf16 e = exp16(load16(scores + j) - maximum);
        store16(scores + j, e);
        total += __builtin_convertvector(e, vd16);
    }
    const float inverse = (float)(1.0 / sum16d(total));
    for (int64_t j = 0; j < padded; j += 16) {
        vf16 p = load16(scores + j) * inverse;
        if (round_half) p = round_half16(p);
        store16(scores + j, p);
    }
}

/// The positions first ..< first + n of the values at kv head offset `head_at`, one run of
/// consecutive rows at a time: `BODY` runs for each position with `row` its entry offset plus `c`
/// and `j` its index, in increasing j.
#define FOR_EACH_VALUE_ROW(p, first, head_at, n, c, BODY)                                      \
    for (int64_t j = 0; j < (n);) {                                                             \
        int64_t run;                                                                            \
        int64_t row = row_offset((p), (first) + j, kv_width, &run) + (head_at) + (c);          \
        const int64_t end = run < (n) - j ? j + run : (n);                                      \
        for (; j < end; j++, row += kv_width) { BODY }                                          \
    }

/// out[c] = Σ_j p_j · v_{first + j}[c] for c < d: one fused multiply-add per position, in increasing
/// j from 0 (each output's sum is its own, so neither the blocking of c nor the runs of rows change
/// any bit).
static inline __attribute__((always_inline)) void weighted_sum(const sparrow_attention_problem *p,
                                                               const float *probabilities, int64_t first,
                                                               int64_t head_at, int64_t n, float *out, int half) {
    const int64_t d = p->head_dim, kv_width = p->kv_heads * d;
    const void *values = p->values;
    int64_t c = 0;
    // Four blocks of 16 at a time: four independent chains of fused multiply-adds.
    for (; c + 64 <= d; c += 64) {
        vf16 a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
        FOR_EACH_VALUE_ROW(p, first, head_at, n, c, {
            const vf16 pj = splat(probabilities[j]);
            a0 = fma16(pj, load_entries(values, row, half), a0);
            a1 = fma16(pj, load_entries(values, row + 16, half), a1);
            a2 = fma16(pj, load_entries(values, row + 32, half), a2);
            a3 = fma16(pj, load_entries(values, row + 48, half), a3);
        })
        store16(out + c, a0);
        store16(out + c + 16, a1);
        store16(out + c + 32, a2);
        store16(out + c + 48, a3);
    }
    for (; c + 16 <= d; c += 16) {
        vf16 a = splat(0);
        FOR_EACH_VALUE_ROW(p, first, head_at, n, c, { a = fma16(splat(probabilities[j]), load_entries(values, row, half), a); })
        store16(out + c, a);
    }
    if (c < d) {
        vf16 a = splat(0);
        FOR_EACH_VALUE_ROW(p, first, head_at, n, c, {
            a = fma16(splat(probabilities[j]), load_entries_partial(values, row, d - c, half), a);
        })
        store_partial(out + c, a, d - c);
    }
}

static inline __attribute__((always_inline)) void attend_pair(const sparrow_attention_problem *p, int64_t row,
                                                              int64_t head, float *scores, int half) {
    const int64_t d = p->head_dim, q_width = p->heads * d;
    const int64_t position = p->start + row;
    // llama.cpp's and transformers' sliding window: the `window` positions up to this one.
    const int64_t first = p->window > 0 && position >= p->window ? position - p->window + 1 : 0;
    const int64_t n = position - first + 1;
    const int64_t head_at = head / (p->heads / p->kv_heads) * d;
    scores_of(p, p->queries + row * q_width + head * d, first, head_at, n, scores, half);
    softmax(scores, n, p->half_probabilities);
    weighted_sum(p, scores, first, head_at, n, p->out + row * q_width + head * d, half);
}

// MARK: Entry points (declared in attention.c)

void VARIANT(sparrow_attention)(const sparrow_attention_problem *problem, int64_t begin, int64_t end,
                                float *scratch) {
    for (int64_t i = begin; i < end; i++) {
        const int64_t head = i / problem->rows, row = i % problem->rows;
        if (problem->half_cache) {
            attend_pair(problem, row, head, scratch, 1);
        } else {
            attend_pair(problem, row, head, scratch, 0);
        }
    }
}

void VARIANT(sparrow_f16_from_f32)(const float *x, void *y, int64_t count) {
    uint16_t *out = y;
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) narrow16(load16(x + i), out + i);
    if (i < count) {
        uint16_t lanes[16];
        narrow16(load_partial(x + i, count - i), lanes);
        memcpy(out + i, lanes, (size_t)(count - i) * sizeof(uint16_t));
    }
}

void VARIANT(sparrow_f32_from_f16)(const void *x, float *y, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) store16(y + i, load_entries(x, i, 1));
    if (i < count) store_partial(y + i, load_entries_partial(x, i, count - i, 1), count - i);
}

void VARIANT(sparrow_round_f16)(const float *x, float *y, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) store16(y + i, round_half16(load16(x + i)));
    if (i < count) store_partial(y + i, round_half16(load_partial(x + i, count - i)), count - i);
}
