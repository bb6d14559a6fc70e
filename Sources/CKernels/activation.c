// Picks the activation kernels' variant for an instruction set (the bodies are in
// activation_impl.h).
#include "CKernels.h"

#define SPARROW_DECLARE_VARIANT(variant)                                                                   \
    void sparrow_silu_##variant(const float *, float *, int64_t);                                           \
    void sparrow_swiglu_##variant(const float *, const float *, float *, int64_t);

SPARROW_DECLARE_VARIANT(portable)
#if defined(__x86_64__)
SPARROW_DECLARE_VARIANT(avx2)
SPARROW_DECLARE_VARIANT(avx512)
#endif

/// Calls `name`'s variant for `isa`, or the portable one when this CPU cannot run `isa` (every
/// variant gives the same bits). AVX-VNNI CPUs run the AVX2 variant: there are no integer products.
#if defined(__x86_64__)
#define SPARROW_DISPATCH(isa, name, ...)                                                                    \
    switch (sparrow_isa_supported(isa) ? isa : SPARROW_ISA_PORTABLE) {                                      \
    case SPARROW_ISA_AVX2:                                                                                  \
    case SPARROW_ISA_AVX_VNNI: name##_avx2(__VA_ARGS__); return;                                            \
    case SPARROW_ISA_AVX512_VNNI: name##_avx512(__VA_ARGS__); return;                                       \
    default: name##_portable(__VA_ARGS__); return;                                                          \
    }
#else
#define SPARROW_DISPATCH(isa, name, ...)                                                                    \
    (void)isa;                                                                                              \
    name##_portable(__VA_ARGS__);
#endif

void sparrow_silu(int isa, const float *x, float *out, int64_t count) {
    SPARROW_DISPATCH(isa, sparrow_silu, x, out, count)
}

void sparrow_swiglu(int isa, const float *gate, const float *up, float *out, int64_t count) {
    SPARROW_DISPATCH(isa, sparrow_swiglu, gate, up, out, count)
}
