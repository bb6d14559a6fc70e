// Activation quantization (`sparrow_quantize_q8`), included by quant_body.h once per instruction
// set. Vectors of eight Floats, the same IEEE operations per value as ggml's scalar reference
// loops, so every variant writes the same bits; the integer sums come from the variant's
// `dot_u8s8`, exact.

typedef int8_t i8x8 __attribute__((vector_size(8)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
typedef int32_t i32x32 __attribute__((vector_size(128)));

INLINE f32x8 load_f32x8(const float *p) { f32x8 v; memcpy(&v, p, 32); return v; }

/// Per lane, `a` where `mask` is set and `b` elsewhere (C has no vector `?:`; the compiler turns
/// these masks into `vminps`, `vmaxps` or `vblendvps`).
INLINE f32x8 select8(i32x8 mask, f32x8 a, f32x8 b) { return (f32x8)((mask & (i32x8)a) | (~mask & (i32x8)b)); }

/// Eight values' |x| as Float bits, NaN's as 0. The bits of non-negative Floats order as the values
/// do, and every NaN's lie above +∞'s (0x7F800000): the integer maximum of these is what the scalar
/// `a > amax` loops find, which never take a NaN.
INLINE i32x8 abs_bits8(const float *v) {
    const i32x8 bits = load_i32x8(v) & 0x7FFFFFFF;
    return bits & ~(bits > 0x7F800000);
}

/// The bits of the largest |x| of `n` values (a multiple of 8), NaN skipped; 0 when every value is
/// ±0 or NaN.
INLINE int32_t abs_max_bits(const float *v, int n) {
    i32x8 m = abs_bits8(v);
    for (int j = 8; j < n; j += 8) m = __builtin_elementwise_max(m, abs_bits8(v + j));
    return __builtin_reduce_max(m);
}

/// The index of the first of 256 values whose |x| has the bits `amax` (not 0, and one of the
/// values has it): the value a scalar `if (a > amax)` loop keeps, so its sign is the first's.
INLINE int first_with_abs_bits(const float *v, int32_t amax) {
    for (int j = 0; j < 256; j += 8) {
        const i32x8 hit = abs_bits8(v + j) == amax;
        if (__builtin_reduce_or(hit))
            for (int k = 0; k < 8; k++)
                if (hit[k]) return j + k;
    }
    return 0;
}

/// Q8_K's quants of rounded-to-be values: `rintf`, then ggml's `MIN(127, ·)` (which takes NaN to
/// 127), then the floor of −127.
INLINE i32x8 quants8_k(f32x8 scaled) {
    f32x8 r = __builtin_elementwise_rint(scaled);
    r = select8(r < 127.0f, r, splat8(127.0f));
    r = select8(r < -127.0f, splat8(-127.0f), r);
    return __builtin_convertvector(r, i32x8);
}

/// Q8_0's and Q8_1's quants: `rintf`, clamped to ±127, NaN to 0.
INLINE i32x8 quants8_0(f32x8 scaled) {
    f32x8 r = __builtin_elementwise_rint(scaled);
    r = select8(r < -127.0f, splat8(-127.0f), r);
    r = select8(r > 127.0f, splat8(127.0f), r);
    r = select8(r == r, r, splat8(0));
    return __builtin_convertvector(r, i32x8);
}

/// 32 quants (each within ±127) as bytes, in order.
INLINE i8x32 pack_quants(i32x8 a, i32x8 b, i32x8 c, i32x8 d) {
    const i32x16 ab = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const i32x16 cd = __builtin_shufflevector(c, d, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const i32x32 all = __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                               18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    return __builtin_convertvector(all, i8x32);
}

/// Writes 32 quants; returns their Σ (exact: |Σ| ≤ 32·128).
INLINE int32_t store_quants(i8x32 q, int8_t *qs) {
    memcpy(qs, &q, 32);
    return __builtin_reduce_add(dot_u8s8((i32x8){0}, (u8x32){0} + 1, q));
}

/// One Q8_K block: ggml's `quantize_row_q8_K_ref`. `iscale = −127 / x` for the first x of largest
/// |x| (its sign decides the quants' signs), the scale `1 / iscale` kept in Float.
INLINE void quantize_block_q8_K(const float *v, int8_t *q, float *scale, int16_t *sums32) {
    const int32_t amax = abs_max_bits(v, 256);
    if (amax == 0) {
        memset(q, 0, 256);
        memset(sums32, 0, 8 * sizeof(int16_t));
        *scale = 0;
        return;
    }
    const float iscale = -127.0f / v[first_with_abs_bits(v, amax)];
    const f32x8 is = splat8(iscale);
    for (int g = 0; g < 8; g++) {
        const float *w = v + 32 * g;
        const i8x32 q32 = pack_quants(quants8_k(is * load_f32x8(w)), quants8_k(is * load_f32x8(w + 8)),
                                      quants8_k(is * load_f32x8(w + 16)), quants8_k(is * load_f32x8(w + 24)));
        sums32[g] = (int16_t)store_quants(q32, q + 32 * g);
    }
    *scale = 1 / iscale;
}

/// One block of 32 for Q8_0 and Q8_1: ggml's `quantize_row_q8_0` and `_q8_1`, d = max|x| / 127
/// rounded to Float16, the quants of x · (127 / max|x|), and with a `scaled_sum` (Q8_1) d · Σq
/// rounded to Float16 (d before its rounding, as ggml multiplies).
INLINE void quantize_block_q8_0(const float *v, int8_t *q, float *scale, float *scaled_sum, int32_t *neg_sum) {
    const int32_t bits = abs_max_bits(v, 32);
    float amax;
    memcpy(&amax, &bits, 4);
    const float d = amax / 127.0f;
    const float inverse = amax != 0 ? 127.0f / amax : 0;
    const f32x8 in = splat8(inverse);
    const i8x32 q32 = pack_quants(quants8_0(load_f32x8(v) * in), quants8_0(load_f32x8(v + 8) * in),
                                  quants8_0(load_f32x8(v + 16) * in), quants8_0(load_f32x8(v + 24) * in));
    const int32_t sum = store_quants(q32, q);
    *neg_sum = -sum;
    *scale = round_to_half(d);
    if (scaled_sum) *scaled_sum = round_to_half(d * (float)sum);
}

void SUFFIX(sparrow_quantize_q8)(int format, const float *x, int64_t count, int8_t *qs, float *scales,
                                 float *scaled_sums, int16_t *sums32, int32_t *neg_sums32) {
    if (format == SPARROW_Q8_K) {
        for (int64_t b = 0; b < count / 256; b++)
            quantize_block_q8_K(x + 256 * b, qs + 256 * b, scales + b, sums32 + 8 * b);
    } else {
        const int with_sums = format == SPARROW_Q8_1;
        for (int64_t b = 0; b < count / 32; b++)
            quantize_block_q8_0(x + 32 * b, qs + 32 * b, scales + b, with_sums ? scaled_sums + b : NULL,
                                neg_sums32 + b);
    }
}
