// The innermost loops of Tensor's kernels, in C because Swift has no per-function CPU targets.
//
// Each kernel is compiled once per instruction set into the same binary (the files named
// `*_portable.c`, `*_avx2.c`, `*_avxvnni.c`, `*_avx512.c`, each under a `#pragma clang attribute`
// target), and the caller picks one at run time with `isa`, normally `sparrow_isa_best()`. A plain
// `swift build -c release` therefore runs the same code as a build for the host CPU.
//
// Every variant computes the same bits: integer products are exact, and each result's Float
// additions happen in one fixed order that depends on neither the instruction set nor how many rows
// and columns are computed together (Sources/Tensor/Kernels/QuantizedMatMul.swift documents the
// order). The portable variant spells the fused multiply-adds with `fmaf`.
//
// Nothing here allocates, and nothing links beyond libc and libm.
#ifndef SPARROW_CKERNELS_H
#define SPARROW_CKERNELS_H

#include <stdint.h>

/// The instruction sets a kernel is compiled for, in increasing order of preference.
typedef enum sparrow_isa {
    /// Plain C: any CPU. Fused multiply-adds through `fmaf`.
    SPARROW_ISA_PORTABLE = 0,
    /// x86-64 with AVX2, FMA and F16C.
    SPARROW_ISA_AVX2 = 1,
    /// AVX2 plus AVX-VNNI (`vpdpbusd` on 256-bit registers, VEX-encoded).
    SPARROW_ISA_AVX_VNNI = 2,
    /// AVX-512 F, BW, VL and VNNI.
    SPARROW_ISA_AVX512_VNNI = 3,
} sparrow_isa;

/// The number of `sparrow_isa` values.
#define SPARROW_ISA_COUNT 4

/// Whether this CPU and operating system can run kernels compiled for `isa` (1) or not (0).
int sparrow_isa_supported(int isa);

/// The best instruction set this machine supports, detected once (cpuid and xgetbv on x86-64).
/// The environment variable `SPARROW_ISA` (`portable`, `avx2`, `avxvnni`, `avx512vnni`) lowers it,
/// never raises it past what the CPU supports.
int sparrow_isa_best(void);

/// Hints that the cache line holding `address` will be read soon (`prefetcht0`). Never faults.
static inline __attribute__((always_inline)) void sparrow_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// MARK: 8-bit activations

/// The 8-bit formats activations are quantized to before a product with quantized weights
/// (ggml's `vec_dot_type`).
typedef enum sparrow_q8_format {
    /// Blocks of 32 with a Float16 scale (Q4_0, Q5_0, Q8_0 weights).
    SPARROW_Q8_0 = 0,
    /// Q8_0 plus Float16(d·Σq) per block (Q4_1, Q5_1 weights).
    SPARROW_Q8_1 = 1,
    /// Blocks of 256 with a Float scale and sums of each 16 (the K-quants).
    SPARROW_Q8_K = 2,
} sparrow_q8_format;

/// Columns of activations quantized to 8 bits, column-major: column c's data starts at
/// `c × (per-column length)` in each array.
typedef struct sparrow_q8_matrix {
    /// Quants, `count` per column.
    const int8_t *qs;
    /// One scale per block (32 or 256 values): ggml's `d`, already rounded to Float16 for Q8_0/Q8_1.
    const float *scales;
    /// Q8_1: Float16(d·Σq) per block of 32. Unused otherwise.
    const float *scaled_sums;
    /// Q8_K: the sum of each 32 quants (ggml's pairwise `bsums`) as Int16 (|Σ| ≤ 32·127), 8 per super-block, so that one
    /// `vpmaddwd` multiplies a K-quant's mins by them. Unused otherwise.
    const int16_t *sums32;
    /// Q8_0 and Q8_1: −Σ of each block's 32 quants, `count / 32` per column: the offsets of unsigned
    /// weight encodings (Q4_0's −8, Q5_0's −16, Q8_0's +128 on VNNI) come off as these, scaled.
    /// Unused for Q8_K.
    const int32_t *neg_sums32;
    /// Values per column.
    int64_t count;
} sparrow_q8_matrix;

/// Quantizes one column of `count` values (a whole number of blocks) into `format`, writing
/// `count` quants, `count / block` scales, and for Q8_1 the scaled sums, for Q8_K the sums of 32,
/// for Q8_0 and Q8_1 the negated sums of 32. Pointers a format does not use may be NULL. ggml's x86 `quantize_row_q8_0`,
/// `quantize_row_q8_1` and `quantize_row_q8_K_ref`, bit for bit; a NaN input quantizes to 0 in Q8_0
/// and Q8_1, and to 127 in Q8_K (ggml's `MIN(127, ·)`).
void sparrow_quantize_q8(int isa, int format, const float *x, int64_t count, int8_t *qs, float *scales,
                         float *scaled_sums, int16_t *sums32, int32_t *neg_sums32);

// MARK: Quantized matrix × matrix

/// Whether `sparrow_quantized_gemm` has a kernel for the ggml type id `ggml_type` (Q4_0 = 2,
/// Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q5_K = 13, Q6_K = 14).
int sparrow_quantized_gemm_supports(int ggml_type);

/// y[c·ldy + r] = W[r] · x[c] for rows r in [row_begin, row_end) and columns c in
/// [col_begin, col_end): W holds rows of `row_bytes` bytes in ggml's `ggml_type` block format, each
/// `row_length` values; x is in the format that type pairs with. Returns 0, or −1 when the type or
/// the instruction set has no kernel here (nothing is written then).
int sparrow_quantized_gemm(int isa, int ggml_type, const void *weights, int64_t row_bytes, int64_t row_length,
                           int64_t row_begin, int64_t row_end, const sparrow_q8_matrix *x, int64_t col_begin,
                           int64_t col_end, float *y, int64_t ldy);

#include "CKernelsAttention.h"
#include "CKernelsFloatMatMul.h"

#endif
