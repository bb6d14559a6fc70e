// The attention kernels for any CPU: plain C on clang's vectors, fused multiply-adds through
// `fmaf`, binary16 converted in software.
#pragma clang fp contract(off)

#define SPARROW_VARIANT portable
#include "attention_impl.h"

static inline vf16 fma16(vf16 a, vf16 b, vf16 c) {
    vf16 r;
    for (int l = 0; l < 16; l++) r[l] = fmaf(a[l], b[l], c[l]);
    return r;
}

/// Exactly as F16C's `vcvtph2ps`: every binary16 value is a Float; a NaN keeps its payload and is
/// made quiet.
static inline float float_of_half(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000 | (mantissa << 13) | (mantissa ? 0x400000 : 0);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else {
        // Zero or subnormal: mantissa · 2⁻²⁴, exact in Float.
        const float magnitude = (float)mantissa * 0x1p-24f;
        memcpy(&bits, &magnitude, sizeof bits);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// Round to nearest even, as F16C's `vcvtps2ph` and Swift's `Float16(x)`: 65520 and above (in
/// magnitude) become infinity, values below 2⁻¹⁴ become subnormal, a NaN stays NaN, quiet, with the
/// top of its payload.
static inline uint16_t half_of_float(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    const uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    const uint32_t magnitude = bits & 0x7FFFFFFF;
    if (magnitude > 0x7F800000) return sign | 0x7E00 | (uint16_t)((magnitude >> 13) & 0x3FF);
    if (magnitude >= 0x477FF000) return sign | 0x7C00;
    if (magnitude >= 0x38800000) {
        // Normal: rebias the exponent (127 → 15), then round away the low 13 bits, ties to even. A
        // carry out of the mantissa correctly bumps the exponent.
        const uint32_t rebiased = magnitude - 0x38000000;
        return sign | (uint16_t)((rebiased + 0xFFF + ((rebiased >> 13) & 1)) >> 13);
    }
    const uint32_t exponent = magnitude >> 23;
    if (exponent < 102) return sign;  // below 2⁻²⁵: rounds to 0
    // Subnormal: (1.mantissa · 2^(exponent − 150)) / 2⁻²⁴ units, rounded to nearest even.
    const uint32_t significand = (magnitude & 0x7FFFFF) | 0x800000, shift = 126 - exponent;
    uint32_t units = significand >> shift;
    const uint32_t rest = significand & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (units & 1))) units += 1;
    return sign | (uint16_t)units;
}

static inline vf16 widen16(const uint16_t *p) {
    vf16 r;
    for (int l = 0; l < 16; l++) r[l] = float_of_half(p[l]);
    return r;
}

static inline void narrow16(vf16 x, uint16_t *p) {
    for (int l = 0; l < 16; l++) p[l] = half_of_float(x[l]);
}
