// Picks the attention kernels' variant for an instruction set (the bodies are in attention_impl.h).
#include "CKernels.h"

#define SPARROW_DECLARE_VARIANT(variant)                                                                   \
    void sparrow_attention_##variant(const sparrow_attention_problem *, int64_t, int64_t, float *);         \
    void sparrow_f16_from_f32_##variant(const float *, void *, int64_t);                                    \
    void sparrow_f32_from_f16_##variant(const void *, float *, int64_t);                                    \
    void sparrow_round_f16_##variant(const float *, float *, int64_t);

SPARROW_DECLARE_VARIANT(portable)
#if defined(__x86_64__)
SPARROW_DECLARE_VARIANT(avx2)
SPARROW_DECLARE_VARIANT(avx512)
#endif

/// Calls `name`'s variant for `isa` with `arguments` and returns 0, or returns −1 when this build
/// has none. AVX-VNNI CPUs run the AVX2 variant: attention has no integer products.
#if defined(__x86_64__)
#define SPARROW_DISPATCH(isa, name, ...)                                                                    \
    switch (isa) {                                                                                          \
    case SPARROW_ISA_PORTABLE: name##_portable(__VA_ARGS__); return 0;                                      \
    case SPARROW_ISA_AVX2:                                                                                  \
    case SPARROW_ISA_AVX_VNNI: name##_avx2(__VA_ARGS__); return 0;                                          \
    case SPARROW_ISA_AVX512_VNNI: name##_avx512(__VA_ARGS__); return 0;                                     \
    default: return -1;                                                                                     \
    }
#else
#define SPARROW_DISPATCH(isa, name, ...)                                                                    \
    if (isa != SPARROW_ISA_PORTABLE) return -1;                                                             \
    name##_portable(__VA_ARGS__);                                                                           \
    return 0;
#endif

int64_t sparrow_attention_scratch(int64_t positions) { return (positions + 15) / 16 * 16; }

int sparrow_attention(int isa, const sparrow_attention_problem *problem, int64_t begin, int64_t end,
                      float *scratch) {
    SPARROW_DISPATCH(isa, sparrow_attention, problem, begin, end, scratch)
}

int sparrow_f16_from_f32(int isa, const float *x, void *y, int64_t count) {
    SPARROW_DISPATCH(isa, sparrow_f16_from_f32, x, y, count)
}

int sparrow_f32_from_f16(int isa, const void *x, float *y, int64_t count) {
    SPARROW_DISPATCH(isa, sparrow_f32_from_f16, x, y, count)
}

int sparrow_round_f16(int isa, const float *x, float *y, int64_t count) {
    SPARROW_DISPATCH(isa, sparrow_round_f16, x, y, count)
}
