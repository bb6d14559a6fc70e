// The feed-forward block's activation (see CKernels.h for the conventions every kernel here
// follows).
//
// silu(x) = x / (1 + e^−x), the division form llama.cpp uses, with e^−x computed by activation_impl.h
// from IEEE-exact operations only (additions, multiplications, fused multiply-adds, one division,
// comparisons and bit operations), in the same order on every instruction set, so every variant
// returns the same bits. The special values follow from the formula: silu(±0) = ±0; for x above 80,
// 1 + e^−x rounds to 1 and silu(x) = x (+∞ included); for x below about −88.72, e^−x overflows and
// silu(x) = −0 (where the exact value is a Float below 3·10⁻³⁷ in magnitude); silu(−∞) and
// silu(NaN) are NaN.
#ifndef SPARROW_CKERNELS_ACTIVATION_H
#define SPARROW_CKERNELS_ACTIVATION_H

#include <stdint.h>

/// out[i] = silu(x[i]) for i in 0 ..< count. `out` may be `x` itself, not another overlapping range.
/// An `isa` this CPU cannot run falls back to the portable variant (the same bits).
void sparrow_silu(int isa, const float *x, float *out, int64_t count);

/// out[i] = silu(gate[i]) · up[i] for i in 0 ..< count, the product rounded once after silu. `out`
/// may be `gate` or `up` itself, not another overlapping range. An `isa` this CPU cannot run falls
/// back to the portable variant (the same bits).
void sparrow_swiglu(int isa, const float *gate, const float *up, float *out, int64_t count);

#endif
