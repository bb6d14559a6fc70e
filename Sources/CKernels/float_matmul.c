// Picks the Float matrix product's variant for an instruction set (the body is in
// float_matmul_impl.h).
#include "CKernels.h"

#define SPARROW_DECLARE_VARIANT(variant)                                                                   \
    int sparrow_float_matmul_##variant(int, const void *, int64_t, int64_t, int64_t, int64_t, const float *, \
                                       int64_t, int64_t, int64_t, float *, int64_t);

SPARROW_DECLARE_VARIANT(portable)
#if defined(__x86_64__)
SPARROW_DECLARE_VARIANT(avx2)
SPARROW_DECLARE_VARIANT(avx512)
#endif

int sparrow_float_matmul_supports(int ggml_type) { return ggml_type == 0 || ggml_type == 1 || ggml_type == 30; }

int sparrow_float_matmul(int isa, int ggml_type, const void *weights, int64_t row_bytes, int64_t row_length,
                         int64_t row_begin, int64_t row_end, const float *x, int64_t ldx, int64_t col_begin,
                         int64_t col_end, float *y, int64_t ldy) {
    if (!sparrow_float_matmul_supports(ggml_type) || !sparrow_isa_supported(isa)) return -1;
    switch (isa) {
#if defined(__x86_64__)
    case SPARROW_ISA_AVX512_VNNI:
        return sparrow_float_matmul_avx512(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, ldx,
                                           col_begin, col_end, y, ldy);
    case SPARROW_ISA_AVX2:
    case SPARROW_ISA_AVX_VNNI:
        // No integer products here: AVX-VNNI CPUs run the AVX2 variant.
        return sparrow_float_matmul_avx2(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, ldx,
                                         col_begin, col_end, y, ldy);
#endif
    case SPARROW_ISA_PORTABLE:
        return sparrow_float_matmul_portable(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, ldx,
                                             col_begin, col_end, y, ldy);
    default: return -1;
    }
}
