// One quantized matrix × matrix product, timed alone: `rows` × `length` random weights of a ggml type
// times `columns` quantized activation columns, on one thread, through the run-time dispatch
// (`sparrow_quantized_gemm`). Prints the best of `reps` runs and a checksum of the results, which
// must not change between two builds that claim the same bits. Built by scripts/bench-qgemm.sh.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/// Block size in bytes and values per block of the types the kernels take.
static int block_shape(int type, int64_t *bytes, int64_t *values) {
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

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s TYPE ROWS LENGTH COLUMNS REPS ISA\n", argv[0]);
        return 2;
    }
    const int type = atoi(argv[1]), reps = atoi(argv[5]), isa = atoi(argv[6]);
    const int64_t rows = atoll(argv[2]), length = atoll(argv[3]), columns = atoll(argv[4]);
    int64_t block_bytes, block_values;
    if (block_shape(type, &block_bytes, &block_values) || length % 256 || rows < 1 || columns < 1 || reps < 1) {
        fprintf(stderr, "unsupported type or shape\n");
        return 2;
    }
    const int64_t blocks = length / block_values, row_bytes = blocks * block_bytes;
    uint8_t *weights = malloc((size_t)(rows * row_bytes));
    float *x = malloc((size_t)(length * columns) * sizeof(float));
    int8_t *qs = malloc((size_t)(length * columns));
    float *scales = malloc((size_t)(length * columns / 32) * sizeof(float));
    float *scaled_sums = malloc((size_t)(length * columns / 32) * sizeof(float));
    int16_t *sums32 = malloc((size_t)(length * columns / 32) * sizeof(int16_t));
    int32_t *neg_sums32 = malloc((size_t)(length * columns / 32) * sizeof(int32_t));
    float *y = malloc((size_t)(rows * columns) * sizeof(float));
    if (!weights || !x || !qs || !scales || !scaled_sums || !sums32 || !neg_sums32 || !y) return 1;
    srand(1);
    for (int64_t i = 0; i < rows * row_bytes; i++) weights[i] = (uint8_t)rand();
    // Small Float16 scales where each format keeps them, so that no product overflows.
    const _Float16 scale = (_Float16)0.01f;
    for (int64_t b = 0; b < rows * blocks; b++) {
        uint8_t *block = weights + b * block_bytes;
        if (type == 14) memcpy(block + 208, &scale, 2);
        else memcpy(block, &scale, 2);
        if (type == 3 || type == 7 || type == 12 || type == 13) memcpy(block + 2, &scale, 2);
    }
    for (int64_t i = 0; i < length * columns; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    const int format = type >= 10 ? SPARROW_Q8_K : ((type == 3 || type == 7) ? SPARROW_Q8_1 : SPARROW_Q8_0);
    const int64_t per32 = length / 32;
    for (int64_t c = 0; c < columns; c++)
        sparrow_quantize_q8(isa, format, x + c * length, length, qs + c * length,
                            scales + c * (format == SPARROW_Q8_K ? length / 256 : per32), scaled_sums + c * per32,
                            sums32 + c * per32, neg_sums32 + c * per32);
    const sparrow_q8_matrix matrix = {qs, scales, scaled_sums, sums32, neg_sums32, length};
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        const double start = seconds();
        if (sparrow_quantized_gemm(isa, type, weights, row_bytes, length, 0, rows, &matrix, 0, columns, y, rows)) {
            fprintf(stderr, "the kernel refused the product (ISA %d not supported here?)\n", isa);
            return 1;
        }
        const double elapsed = seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    double checksum = 0;
    for (int64_t i = 0; i < rows * columns; i++) checksum += y[i];
    printf("%.4f ms %.1f GMAC/s checksum %.9e\n", best * 1e3, (double)(rows * length * columns) / best / 1e9, checksum);
    return 0;
}
