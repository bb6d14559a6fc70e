// The integer primitives of quant_body.h in plain C, what the instructions compute: shared by the
// portable variant (quant_portable.c) and by scripts/support/vnni_emulated.c, which differ only in
// how a signed Q8_0 weight becomes an unsigned operand (s8_operand, dot_s8s8).
#ifndef SPARROW_QUANT_GENERIC_PRIMITIVES_H
#define SPARROW_QUANT_GENERIC_PRIMITIVES_H

/// `vpdpbusd`: init + lane sums of 4 products, a unsigned, b signed.
INLINE i32x8 dot_u8s8(i32x8 init, u8x32 a, i8x32 b) {
    i32x8 r = init;
    for (int l = 0; l < 8; l++)
        for (int k = 0; k < 4; k++) r[l] += (int32_t)a[4 * l + k] * (int32_t)b[4 * l + k];
    return r;
}

/// `vpmaddubsw`: Int16 sums of adjacent products, saturated.
INLINE i16x16 maddubs16(u8x32 a, i8x32 b) {
    i16x16 r;
    for (int m = 0; m < 16; m++) {
        int32_t s = (int32_t)a[2 * m] * b[2 * m] + (int32_t)a[2 * m + 1] * b[2 * m + 1];
        r[m] = (int16_t)(s > 32767 ? 32767 : (s < -32768 ? -32768 : s));
    }
    return r;
}

/// `vphaddd`: pair sums of a and b, per 128-bit half [a01 a23 b01 b23 | a45 a67 b45 b67].
INLINE i32x8 hadd32(i32x8 a, i32x8 b) {
    return __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) + __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/// `vpmaddwd`: pair sums a[2l]·b[2l] + a[2l + 1]·b[2l + 1] in Int32.
INLINE i32x8 madd16(i16x16 a, i16x16 b) {
    i32x8 r;
    for (int l = 0; l < 8; l++) r[l] = (int32_t)a[2 * l] * b[2 * l] + (int32_t)a[2 * l + 1] * b[2 * l + 1];
    return r;
}

/// acc + pair sums of scale · (maddubs16(q, x) − offset).
INLINE i32x8 kdot(i32x8 acc, u8x32 q, i8x32 x, i16x16 scale, i16x16 offset) {
    return acc + madd16(scale, maddubs16(q, x) - offset);
}

#endif
