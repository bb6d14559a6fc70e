// The Float matrix product for any CPU: plain C on clang's vectors, fused multiply-adds through
// `fmaf` where the target has no instruction for them, binary16 widened by the compiler's
// conversion (exact, as every binary16 value is a Float).
#pragma clang fp contract(off)

#define SPARROW_VARIANT portable
#define LANES 16
#define TILE_ROWS 2
#define TILE_COLUMNS 2
#define COLUMN_BLOCK 16
#define RUN_BYTES 16384
#include "float_matmul_impl.h"

static inline vfl fma_l(vfl a, vfl b, vfl c) { return __builtin_elementwise_fma(a, b, c); }

static inline vfl widen_half_l(const uint8_t *p) {
    _Float16 h[16];
    memcpy(h, p, sizeof h);
    vfl r;
    for (int l = 0; l < 16; l++) r[l] = (float)h[l];
    return r;
}
