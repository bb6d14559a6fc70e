// Float weights × Float activations (see CKernels.h for the conventions every kernel here follows).
//
// Weights stored as F32, F16 or BF16 (ggml type ids 0, 1, 30), each value widened exactly to Float,
// times activation columns of Floats. Every result y[c][r] = W[r] · x[c] is computed in one fixed
// order of Float operations, whatever the number of rows and columns computed together, the tile a
// result falls in, the split of rows across threads, and the instruction set:
//
// - 16 lanes, starting at +0; lane l takes the products of the elements l, l + 16, l + 32, … in
//   increasing order, each with one fused multiply-add, acc_l = fma(w_k, x_k, acc_l); a partial
//   last group of 16 is padded with zeros in both operands (its fused multiply-adds run in every
//   lane all the same);
// - then the lanes are added pairwise: l + (l + 8) for l < 8, then the same with 4, 2 and 1
//   (attention_impl.h's `sum16`).
//
// So a token's product with a weight matrix is the same bits alone, in a prefill of any length, or
// beside other sequences' tokens (batch invariance). Sources/Tensor/Kernels/FloatMatMul.swift has a
// scalar transcription of the order in its documentation.
#ifndef SPARROW_CKERNELS_FLOAT_MATMUL_H
#define SPARROW_CKERNELS_FLOAT_MATMUL_H

#include <stdint.h>

/// Whether `sparrow_float_matmul` has a kernel for the ggml type id `ggml_type` (F32 = 0, F16 = 1,
/// BF16 = 30).
int sparrow_float_matmul_supports(int ggml_type);

/// y[c·ldy + r] = W[r] · x[c·ldx ..< c·ldx + row_length] for rows r in [row_begin, row_end) and
/// columns c in [col_begin, col_end), in the order above. W holds rows of `row_bytes` bytes (no
/// alignment needed), each `row_length` values of `ggml_type`, little-endian. Returns 0, or −1 when
/// the type or the instruction set has no kernel here (nothing is written then). Disjoint ranges of
/// rows (or of columns) may be computed concurrently.
int sparrow_float_matmul(int isa, int ggml_type, const void *weights, int64_t row_bytes, int64_t row_length,
                         int64_t row_begin, int64_t row_end, const float *x, int64_t ldx, int64_t col_begin,
                         int64_t col_end, float *y, int64_t ldy);

#endif
