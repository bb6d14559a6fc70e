// Two CPU instructions for Tensor's quantized kernels that Swift cannot spell, as inline functions.
//
// Each compiles to one instruction inside the Swift kernel that calls it and links nothing:
// OpenBLAS stays the library's only native dependency, and every kernel remains Swift. The kernels'
// arithmetic, loops and data layout are all in Sources/Tensor/Kernels; these are single operations.
#ifndef SPARROW_CINTRINSICS_H
#define SPARROW_CINTRINSICS_H

/// Hints that the cache line holding `address` will be read soon (`prefetcht0`). Never faults,
/// whatever the address: a prefetch past the end of a mapping is dropped by the CPU.
///
/// Swift has no prefetch intrinsic, and clang's (`_mm_prefetch`, `__builtin_prefetch`) are macros or
/// builtins that Swift cannot import. Why the kernels want it: the 4-bit kernels spend about one
/// vector instruction per weight byte, so the out-of-order window covers only a few cache lines ahead
/// of the loads, and each 4 KiB page boundary (which the hardware prefetcher does not cross) stalls
/// on DRAM. Prefetching 2 KiB ahead took TinyLlama-shape Q4_0 decoding from about 15 to about 18
/// tokens/s on 2 threads (BENCHMARKS.md).
static inline __attribute__((always_inline)) void sparrow_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Sixteen Int16 lanes (imported into Swift as `SIMD16<Int16>`).
typedef short sparrow_int16x16 __attribute__((ext_vector_type(16)));
/// Eight Int32 lanes (`SIMD8<Int32>`).
typedef int sparrow_int32x8 __attribute__((ext_vector_type(8)));

/// `vpmaddwd`: lane l of the result is a[2l]·b[2l] + a[2l+1]·b[2l+1], in Int32.
///
/// Swift can write this as sign extensions of the even and odd halves, and in isolation LLVM turns
/// that into the instruction. Inside a kernel it often does not: knowing that one operand is a
/// nibble, it rewrites the extensions into byte shuffles and zero extensions, and Q4_0 decoding ran
/// at a third of its speed. The builtin keeps the one instruction. Without AVX2 (a build without
/// `-target-cpu`, or another architecture) the same arithmetic is written with vector extensions;
/// both are exact for every input the kernels produce, so the results are the same bits.
static inline __attribute__((always_inline)) sparrow_int32x8 sparrow_madd(sparrow_int16x16 a, sparrow_int16x16 b) {
#if defined(__AVX2__)
    typedef short v16hi __attribute__((vector_size(32)));
    return (sparrow_int32x8)__builtin_ia32_pmaddwd256((v16hi)a, (v16hi)b);
#else
    return __builtin_convertvector(a.even, sparrow_int32x8) * __builtin_convertvector(b.even, sparrow_int32x8)
         + __builtin_convertvector(a.odd, sparrow_int32x8) * __builtin_convertvector(b.odd, sparrow_int32x8);
#endif
}

#endif
