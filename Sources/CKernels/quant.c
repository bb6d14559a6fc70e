// Picks the quantized kernels' variant for the requested instruction set.
#include "CKernels.h"
#include "quant_dispatch.h"

int sparrow_quantized_gemm_supports(int ggml_type) {
    switch (ggml_type) {
    case 2: case 3: case 6: case 7: case 8: case 12: case 13: case 14: return 1;
    default: return 0;
    }
}

int sparrow_quantized_gemm(int isa, int ggml_type, const void *weights, int64_t row_bytes, int64_t row_length,
                           int64_t row_begin, int64_t row_end, const sparrow_q8_matrix *x, int64_t col_begin,
                           int64_t col_end, float *y, int64_t ldy) {
    if (!sparrow_quantized_gemm_supports(ggml_type) || !sparrow_isa_supported(isa)) return -1;
    switch (isa) {
#if defined(__x86_64__)
    case SPARROW_ISA_AVX512_VNNI:
        return sparrow_qgemm_avx512(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, col_begin,
                                    col_end, y, ldy);
    case SPARROW_ISA_AVX_VNNI:
        return sparrow_qgemm_avxvnni(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, col_begin,
                                     col_end, y, ldy);
    case SPARROW_ISA_AVX2:
        return sparrow_qgemm_avx2(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, col_begin,
                                  col_end, y, ldy);
#endif
    default:
        return sparrow_qgemm_portable(ggml_type, weights, row_bytes, row_length, row_begin, row_end, x, col_begin,
                                      col_end, y, ldy);
    }
}

void sparrow_quantize_q8(int isa, int format, const float *x, int64_t count, int8_t *qs, float *scales,
                         float *scaled_sums, int16_t *sums32, int32_t *neg_sums32) {
    switch (sparrow_isa_supported(isa) ? isa : SPARROW_ISA_PORTABLE) {
#if defined(__x86_64__)
    case SPARROW_ISA_AVX512_VNNI:
    case SPARROW_ISA_AVX_VNNI:
        // Quantizing has no use for VNNI: the AVX2 build serves both.
    case SPARROW_ISA_AVX2:
        sparrow_quantize_q8_avx2(format, x, count, qs, scales, scaled_sums, sums32, neg_sums32);
        return;
#endif
    default:
        sparrow_quantize_q8_portable(format, x, count, qs, scales, scaled_sums, sums32, neg_sums32);
    }
}
