// A random quantized product for the kernel harnesses (qgemm_bench.c, vnni_emulated.c): `rows` ×
// `length` weights of a ggml type with small Float16 scales, so that no product overflows, and
// `columns` activation columns quantized in the format the type pairs with.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"

typedef struct qgemm_product {
    int type;
    int64_t rows, length, columns, row_bytes;
    uint8_t *weights;
    float *x;
    int8_t *qs;
    float *scales, *scaled_sums;
    int16_t *sums32;
    int32_t *neg_sums32;
    sparrow_q8_matrix matrix;
} qgemm_product;

/// Block size in bytes and values per block of the types the kernels take; −1 for others.
static int qgemm_block_shape(int type, int64_t *bytes, int64_t *values) {
    switch (type) {
    case 2: *bytes = 18; *values = 32; return 0;
    case 3: *bytes = 20; *values = 32; return 0;
    case 6: *bytes = 22; *values = 32; return 0;
    case 7: *bytes = 24; *values = 32; return 0;
    case 8: *bytes = 34; *values = 32; return 0;
    case 12: *bytes = 144; *values = 256; return 0;
    case 13: *bytes = 176; *values = 256; return 0;
    case 14: *bytes = 210; *values = 256; return 0;
    default: return -1;
    }
}

/// Fills `p` from `srand(seed)`, the activations quantized with `isa`; 0, or −1 for an unsupported
/// type or shape (length a multiple of 256) or a failed allocation.
static int qgemm_product_make(qgemm_product *p, int type, int64_t rows, int64_t length, int64_t columns, int isa,
                              unsigned seed) {
    int64_t block_bytes, block_values;
    if (qgemm_block_shape(type, &block_bytes, &block_values) || length % 256 || rows < 1 || columns < 1) return -1;
    const int64_t blocks = length / block_values, per32 = length / 32;
    *p = (qgemm_product){.type = type, .rows = rows, .length = length, .columns = columns,
                         .row_bytes = blocks * block_bytes};
    p->weights = malloc((size_t)(rows * p->row_bytes));
    p->x = malloc((size_t)(length * columns) * sizeof(float));
    p->qs = malloc((size_t)(length * columns));
    p->scales = malloc((size_t)(per32 * columns) * sizeof(float));
    p->scaled_sums = malloc((size_t)(per32 * columns) * sizeof(float));
    p->sums32 = malloc((size_t)(per32 * columns) * sizeof(int16_t));
    p->neg_sums32 = malloc((size_t)(per32 * columns) * sizeof(int32_t));
    if (!p->weights || !p->x || !p->qs || !p->scales || !p->scaled_sums || !p->sums32 || !p->neg_sums32) return -1;
    srand(seed);
    for (int64_t i = 0; i < rows * p->row_bytes; i++) p->weights[i] = (uint8_t)rand();
    const _Float16 scale = (_Float16)0.01f;
    for (int64_t b = 0; b < rows * blocks; b++) {
        uint8_t *block = p->weights + b * block_bytes;
        memcpy(block + (type == 14 ? 208 : 0), &scale, 2);
        if (type == 3 || type == 7 || type == 12 || type == 13) memcpy(block + 2, &scale, 2);
    }
    for (int64_t i = 0; i < length * columns; i++) p->x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    const int format = type >= 10 ? SPARROW_Q8_K : ((type == 3 || type == 7) ? SPARROW_Q8_1 : SPARROW_Q8_0);
    for (int64_t c = 0; c < columns; c++)
        sparrow_quantize_q8(isa, format, p->x + c * length, length, p->qs + c * length,
                            p->scales + c * (format == SPARROW_Q8_K ? length / 256 : per32), p->scaled_sums + c * per32,
                            p->sums32 + c * per32, p->neg_sums32 + c * per32);
    p->matrix = (sparrow_q8_matrix){p->qs, p->scales, p->scaled_sums, p->sums32, p->neg_sums32, length};
    return 0;
}

static void qgemm_product_free(qgemm_product *p) {
    free(p->weights), free(p->x), free(p->qs), free(p->scales), free(p->scaled_sums), free(p->sums32);
    free(p->neg_sums32);
}
