// A cache prefetch hint for Tensor's quantized kernels.
//
// Swift has no prefetch intrinsic, and clang's (`_mm_prefetch`, `__builtin_prefetch`) are macros or
// builtins that Swift cannot import, so this header wraps the builtin in an inline function. It
// compiles to one `prefetcht0` and links nothing: OpenBLAS stays the library's only native
// dependency, and every kernel remains Swift.
//
// Why the kernels want it: the 4-bit kernels spend about one vector instruction per weight byte, so
// the out-of-order window covers only a few cache lines ahead of the loads, and each 4 KiB page
// boundary (which the hardware prefetcher does not cross) stalls on DRAM. Prefetching 2 KiB ahead
// took TinyLlama-shape Q4_0 decoding from about 15 to about 18 tokens/s on 2 threads (BENCHMARKS.md).
#ifndef SPARROW_CPREFETCH_H
#define SPARROW_CPREFETCH_H

/// Hints that the cache line holding `address` will be read soon. Never faults, whatever the
/// address: a prefetch past the end of a mapping is dropped by the CPU.
static inline __attribute__((always_inline)) void sparrow_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
