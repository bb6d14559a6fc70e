// Types and instruction-set-independent helpers shared by the quantized kernels. Included by each
// `quant_*.c` file after its target pragma, so every function here is compiled for that target.
#ifndef SPARROW_QUANT_COMMON_H
#define SPARROW_QUANT_COMMON_H

#include <stdint.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"

typedef int8_t i8x32 __attribute__((vector_size(32)));
typedef int8_t i8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef uint16_t u16x16 __attribute__((vector_size(32)));
typedef int16_t i16x16 __attribute__((vector_size(32)));
typedef int16_t i16x8 __attribute__((vector_size(16)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x4 __attribute__((vector_size(16)));

#define INLINE static inline __attribute__((always_inline))

INLINE u8x32 load_u8x32(const void *p) { u8x32 v; memcpy(&v, p, 32); return v; }
INLINE i8x32 load_i8x32(const void *p) { i8x32 v; memcpy(&v, p, 32); return v; }
INLINE u8x16 load_u8x16(const void *p) { u8x16 v; memcpy(&v, p, 16); return v; }
INLINE i32x8 load_i32x8(const void *p) { i32x8 v; memcpy(&v, p, 32); return v; }
INLINE uint16_t load_u16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
INLINE uint32_t load_u32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/// IEEE half → float, exact (F16C under an x86 target, compiler-rt otherwise).
INLINE float half_to_float(const void *p) {
    _Float16 h;
    memcpy(&h, p, 2);
    return (float)h;
}

/// float → IEEE half, round to nearest even.
INLINE float round_to_half(float x) { return (float)(_Float16)x; }

INLINE f32x8 splat8(float v) { return (f32x8){v, v, v, v, v, v, v, v}; }
INLINE f32x4 splat4(float v) { return (f32x4){v, v, v, v}; }
INLINE f32x8 to_float8(i32x8 v) { return __builtin_convertvector(v, f32x8); }
INLINE f32x4 to_float4(i32x4 v) { return __builtin_convertvector(v, f32x4); }

/// a·b + c per lane with one rounding: `vfmadd` under an FMA target, `fmaf` otherwise.
INLINE f32x8 fma8(f32x8 a, f32x8 b, f32x8 c) { return __builtin_elementwise_fma(a, b, c); }
INLINE f32x4 fma4(f32x4 a, f32x4 b, f32x4 c) { return __builtin_elementwise_fma(a, b, c); }

/// ggml's `hsum_float_8`: (l0+l4, l1+l5, l2+l6, l3+l7), then (0+2) + (1+3).
INLINE float hsum8(f32x8 v) {
    const float r0 = v[4] + v[0], r1 = v[5] + v[1], r2 = v[6] + v[2], r3 = v[7] + v[3];
    return (r0 + r2) + (r1 + r3);
}

/// A 4-bit block's 16 bytes as 32 values in ggml's order (`bytes_from_nibbles_32`): the low
/// nibbles of bytes 0–15, then their high nibbles.
/// The 16 bytes go to both halves in one broadcast load, and one variable shift moves the upper
/// half's high nibbles down (`vbroadcasti128`, `vpsrlvd`, `vpand` under AVX2: no cross-lane insert).
INLINE u8x32 nibbles32(const uint8_t *qs) {
    const u8x16 v = load_u8x16(qs);
    const u8x32 both = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3,
                                               4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const u32x8 shifted = (u32x8)both >> (u32x8){0, 0, 0, 0, 4, 4, 4, 4};
    return (u8x32)shifted & (uint8_t)0x0F;
}

/// Bit k of each byte moved to bit 4 (0x10), the other bits cleared: one shift of 16-bit lanes and
/// one mask, where a shift of bytes costs a shift and a mask each way. A bit the wider shift carries
/// across a byte boundary lands outside the mask (k is a constant, 0–7).
INLINE u8x32 bit_to_fifth(u8x32 v, int k) {
    const u8x32 moved = k < 4 ? (u8x32)((u16x16)v << (4 - k)) : k == 4 ? v : (u8x32)((u16x16)v >> (k - 4));
    return moved & (uint8_t)0x10;
}

/// 0x10 in byte j where bit j of `bits` is set (Q5's fifth bits, ggml's `bytes_from_bits_32`).
INLINE u8x32 fifth_bits32(uint32_t bits) {
    const u8x16 b = (u8x16)(u32x4){bits, 0, 0, 0};
    const u8x32 spread = __builtin_shufflevector(b, b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const u8x32 mask = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
                        1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    return (u8x32)((spread & mask) == mask) & (uint8_t)0x10;
}

/// The eight 6-bit scales and mins of a Q4_K or Q5_K super-block from its 12 packed bytes (ggml's
/// `kmask` arithmetic), as one vector: byte s is sub-block s's scale, byte 8 + s its min.
INLINE u8x16 k4_scales_mins16(const uint8_t *packed) {
    const uint32_t w0 = load_u32(packed), w1 = load_u32(packed + 4), w2 = load_u32(packed + 8);
    const uint32_t scalesLow = w0 & 0x3F3F3F3Fu, minsLow = w1 & 0x3F3F3F3Fu;
    const uint32_t scalesHigh = (w2 & 0x0F0F0F0Fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t minsHigh = ((w2 >> 4) & 0x0F0F0F0Fu) | (((w1 >> 6) & 0x03030303u) << 4);
    return (u8x16)(u32x4){scalesLow, scalesHigh, minsLow, minsHigh};
}

#endif
