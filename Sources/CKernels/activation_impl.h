// The activation kernels' one body (CKernelsActivation.h), compiled once per instruction set:
// activation_portable.c, activation_avx2.c and activation_avx512.c each define SPARROW_VARIANT (the
// suffix of the entry points) and include this file under their target pragma.
//
// Every lane is computed alone, on 16-lane vectors (clang's `ext_vector_type`), by the same
// sequence of Float operations; a variant only decides how many lanes one instruction holds (one
// 512-bit register, two 256-bit ones, or `fmaf` calls in the portable build). The last partial
// vector is padded with zeros, which changes no other lane. Contraction is off, so every fused
// multiply-add is one written here.
#pragma clang fp contract(off)
// Vectors of 16 pass between this file's functions by value; every function taking one is static
// and inlined.
#pragma clang diagnostic ignored "-Wpsabi"

#include <stdint.h>
#include <string.h>

#include "CKernels.h"

#ifndef SPARROW_VARIANT
#error "define SPARROW_VARIANT before including activation_impl.h"
#endif
#define SPARROW_JOIN2(name, variant) name##_##variant
#define SPARROW_JOIN(name, variant) SPARROW_JOIN2(name, variant)
#define VARIANT(name) SPARROW_JOIN(name, SPARROW_VARIANT)
#define INLINE static inline __attribute__((always_inline))

typedef float vf16 __attribute__((ext_vector_type(16)));
typedef int32_t vi16 __attribute__((ext_vector_type(16)));
typedef uint32_t vu16 __attribute__((ext_vector_type(16)));

INLINE vf16 splat(float value) {
    vf16 v = value;
    return v;
}

/// a · b + c in each lane, rounded once: `vfmadd` under an FMA target, `fmaf` otherwise.
INLINE vf16 fma16(vf16 a, vf16 b, vf16 c) { return __builtin_elementwise_fma(a, b, c); }

/// Lane by lane, `a` where `mask` is set (all ones), else `b`.
INLINE vf16 select16(vi16 mask, vf16 a, vf16 b) { return (vf16)(((vi16)a & mask) | ((vi16)b & ~mask)); }

/// e^t as an unevaluated sum hi + lo, for 1 + e^t; hi alone is within 0.6 ulp:
///
/// - t = n·ln 2 + r with n = round(t·log₂e), to nearest even: one fused multiply-add with
///   1.5·2²³ rounds the product to an integer (exact for |t·log₂e| < 2²²), and subtracting 1.5·2²³
///   again is exact;
/// - r = (t − n·ln2_hi) − n·ln2_lo (Cody–Waite: ln2_hi has 12 significant bits, so n·ln2_hi is
///   exact for |n| < 2¹², and the first fused multiply-add is exact), |r| ≤ ln 2 / 2 (plus rounding);
/// - e^r = 1 + s, s = r + r²·Q(r), Q of degree 4 fitted for minimax relative error on
///   [−ln 2/2, ln 2/2] (6·10⁻² ulp with its Float coefficients), in Horner form with fused
///   multiply-adds; 1 + s rounded is p, and p_lo = (1 − p) + s is exact (|s| < 1);
/// - 2ⁿ⁻¹ built in the exponent bits (the sum's low bits hold n), then p · 2ⁿ⁻¹ · 2: the first
///   product is exact while normal, the doubling is exact or overflows to +∞ where e^t does, and
///   n up to 128 (e^t up to Float's largest value) needs no second scale. p_lo is scaled alike.
///
/// Above 88.75 (past ln of the largest Float, 88.7228) hi is +∞; below −80 both are 0, as
/// 1 + e^t rounds to 1 there anyway (e^t < 2⁻²⁵ from t < −17.4). NaN gives NaN.
INLINE vf16 exp16(vf16 t, vf16 *lo) {
    const vf16 shifter = splat(0x1.8p23f);
    const vf16 z = fma16(t, splat(0x1.715476p+0f), shifter);
    const vf16 n = z - shifter;
    vf16 r = fma16(n, splat(-0x1.62e400p-1f), t);
    r = fma16(n, splat(-0x1.7f7d1cp-20f), r);
    vf16 q = splat(0x1.6a244cp-10f);
    q = fma16(q, r, splat(0x1.1239d4p-7f));
    q = fma16(q, r, splat(0x1.5558f2p-5f));
    q = fma16(q, r, splat(0x1.555492p-3f));
    q = fma16(q, r, splat(0x1.fffffcp-2f));
    const vf16 s = fma16(r * r, q, r);
    const vf16 p = s + 1.0f;
    const vf16 p_lo = (1.0f - p) + s;
    // z's bits are those of 1.5·2²³ plus n: shifted left by 23 they are n in the exponent field,
    // and adding 126's leaves 2ⁿ⁻¹ (normal for −125 ≤ n ≤ 128, which t ≥ −80 and t ≤ 88.75 ensure).
    const vf16 half_scale = (vf16)(((vu16)z << 23) + 0x3F000000u);
    const vf16 half = p * half_scale, half_lo = p_lo * half_scale;
    const vi16 tiny = t < -80.0f;
    *lo = select16(tiny, splat(0), half_lo + half_lo);
    return select16(t > 88.75f, splat(__builtin_inff()), select16(tiny, splat(0), half + half));
}

/// silu(x) = x / (1 + e^−x) in each lane, within 0.5 ulp plus e^−x's error (below 0.1 ulp with
/// e^−x as hi + lo): the denominator is d + d_lo exactly (Knuth's two-sum of 1 and hi, plus lo),
/// and the quotient is y₀ = x · (1/d) corrected once by its remainder, y₀ + (x − y₀·d − y₀·d_lo) / d
/// with 1/d for the division. Where that remainder is NaN (x = ±∞, or e^−x = +∞, giving −0 or
/// NaN) or y₀ is 0 (x = ±0, or a subnormal x whose half rounds to 0), y₀ is the result.
INLINE vf16 silu16(vf16 x) {
    vf16 e_lo;
    const vf16 e = exp16(-x, &e_lo);
    const vf16 d = e + 1.0f;
    const vf16 d_e = d - 1.0f, d_one = d - d_e;
    const vf16 d_lo = ((1.0f - d_one) + (e - d_e)) + e_lo;
    const vf16 inverse = 1.0f / d;
    const vf16 y0 = x * inverse;
    vf16 remainder = fma16(-y0, d, x);
    remainder = fma16(-y0, d_lo, remainder);
    const vf16 y = fma16(remainder, inverse, y0);
    return select16((remainder != remainder) | (y0 == 0.0f), y0, y);
}

INLINE vf16 load16(const float *p) {
    vf16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void store16(float *p, vf16 v) { memcpy(p, &v, sizeof v); }

/// The first `count` (< 16) Floats at `p`, the other lanes 0.
INLINE vf16 load_partial(const float *p, int64_t count) {
    float lanes[16] = {0};
    memcpy(lanes, p, (size_t)count * sizeof(float));
    return load16(lanes);
}

INLINE void store_partial(float *p, vf16 v, int64_t count) {
    float lanes[16];
    store16(lanes, v);
    memcpy(p, lanes, (size_t)count * sizeof(float));
}

void VARIANT(sparrow_silu)(const float *x, float *out, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) store16(out + i, silu16(load16(x + i)));
    if (i < count) store_partial(out + i, silu16(load_partial(x + i, count - i)), count - i);
}

void VARIANT(sparrow_swiglu)(const float *gate, const float *up, float *out, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) store16(out + i, silu16(load16(gate + i)) * load16(up + i));
    if (i < count) {
        const int64_t rest = count - i;
        store_partial(out + i, silu16(load_partial(gate + i, rest)) * load_partial(up + i, rest), rest);
    }
}
