// The per-instruction-set entry points of the quantized kernels (quant_body.h), for quant.c.
#ifndef SPARROW_QUANT_DISPATCH_H
#define SPARROW_QUANT_DISPATCH_H

#include "CKernels.h"

#define DECLARE_QUANT_KERNELS(isa)                                                                              \
    int sparrow_qgemm_##isa(int type, const void *weights, int64_t row_bytes, int64_t row_length, int64_t r0,   \
                            int64_t r1, const sparrow_q8_matrix *x, int64_t c0, int64_t c1, float *y,           \
                            int64_t ldy);                                                                       \
    void sparrow_quantize_q8_##isa(int format, const float *x, int64_t count, int8_t *qs, float *scales,        \
                                   float *scaled_sums, int16_t *sums32, int32_t *neg_sums32);          

DECLARE_QUANT_KERNELS(portable)
#if defined(__x86_64__)
DECLARE_QUANT_KERNELS(avx2)
DECLARE_QUANT_KERNELS(avxvnni)
DECLARE_QUANT_KERNELS(avx512)
#endif

#endif
