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
#include "qgemm_product.h"

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s TYPE ROWS LENGTH COLUMNS REPS ISA\n", argv[0]);
        return 2;
    }
    const int type = atoi(argv[1]), reps = atoi(argv[5]), isa = atoi(argv[6]);
    const int64_t rows = atoll(argv[2]), length = atoll(argv[3]), columns = atoll(argv[4]);
    qgemm_product p;
    if (reps < 1 || qgemm_product_make(&p, type, rows, length, columns, isa, 1)) {
        fprintf(stderr, "unsupported type or shape\n");
        return 2;
    }
    float *y = malloc((size_t)(rows * columns) * sizeof(float));
    if (!y) return 1;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        const double start = seconds();
        if (sparrow_quantized_gemm(isa, type, p.weights, p.row_bytes, length, 0, rows, &p.matrix, 0, columns, y, rows)) {
            fprintf(stderr, "the kernel refused the product (ISA %d not supported here?)\n", isa);
            return 1;
        }
        const double elapsed = seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    double checksum = 0;
    for (int64_t i = 0; i < rows * columns; i++) checksum += y[i];
    printf("%.4f ms %.1f GMAC/s checksum %.9e\n", best * 1e3, (double)(rows * length * columns) / best / 1e9, checksum);
    qgemm_product_free(&p);
    free(y);
    return 0;
}
