// One decoded token of a TinyLlama-shape Q4_K_M file, as the kernels see it, without the model: 22
// layers of (q, k, v), o, (gate, up) and down products plus the Q6_K output matrix, each of one
// column, from 600 MB of random weights (so from memory, as in decoding). Threads take chunks of
// rows as ParallelProducts and WorkerPool hand them out, with a spin barrier after each operation.
// It reads what decoding speed the kernels and the scheduling allow, apart from everything else a
// token does, and lets two builds of the kernels be compared in alternation
// (scripts/support/alternate.py --emulation).
//
//   decode_emulation THREADS TOKENS [RUNS]   prints tokens/s of each run
//   SERVE=1 decode_emulation THREADS TOKENS  one run per line read from stdin (after one setup)
//   SCHEDULE=shared                          one shared task counter (the pool before 966133a);
//                                            default: a contiguous range per thread, the rest taken
//                                            from other ranges' backs (WorkerPool now)
//   TASKS_PER_THREAD=N                       chunks per thread and matrix (default 16, as chunkRows)
//
// Built like qgemm_bench.c: clang -O2 -ISources/CKernels/include -ISources/CKernels -Iscripts/support
//   -o /tmp/decode_emulation scripts/support/decode_emulation.c Sources/CKernels/quant*.c
//   Sources/CKernels/cpu.c -lm -lpthread
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CKernels.h"
#include "qgemm_product.h"

enum { MAX_THREADS = 8, MAX_OPERATIONS = 128, ISA = 1 /* AVX2 */ };

/// One weight matrix and its output.
typedef struct {
    qgemm_product product;
    float *y;
} matrix;

/// Up to three matrices multiplied in one operation (q, k, v; gate, up), their chunks in order.
typedef struct {
    matrix *m[3];
    int count;
    int64_t chunk[3], chunks[3], tasks;
} operation;

static operation operations[MAX_OPERATIONS];
static int operation_count, threads, tokens, tasks_per_thread = 16, shared_schedule;
static atomic_int next_task, arrived, phase;
/// Per thread: front | back << 32 of its range of the current operation's tasks.
static _Atomic uint64_t ranges[MAX_THREADS];

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/// ParallelProducts.chunkRows.
static int64_t chunk_rows(int64_t total) {
    if (threads < 2) return total;
    int64_t c = (total + threads * tasks_per_thread - 1) / (threads * tasks_per_thread);
    if (c < 16) c = 16;
    return (c + 7) / 8 * 8;
}

static matrix *make_matrix(int type, int64_t rows, int64_t length) {
    static unsigned seed = 1;
    matrix *m = malloc(sizeof *m);
    if (!m || qgemm_product_make(&m->product, type, rows, length, 1, ISA, seed++)) {
        fprintf(stderr, "cannot make a %lld × %lld matrix of type %d\n", (long long)rows, (long long)length, type);
        exit(1);
    }
    m->y = malloc((size_t)rows * sizeof(float));
    return m;
}

static void add_operation(matrix *a, matrix *b, matrix *c) {
    operation *o = &operations[operation_count++];
    *o = (operation){{a, b, c}, c ? 3 : b ? 2 : 1, {0}, {0}, 0};
    for (int i = 0; i < o->count; i++) {
        o->chunk[i] = chunk_rows(o->m[i]->product.rows);
        o->chunks[i] = (o->m[i]->product.rows + o->chunk[i] - 1) / o->chunk[i];
        o->tasks += o->chunks[i];
    }
}

static void run_task(const operation *o, int64_t t) {
    int i = 0;
    while (t >= o->chunks[i]) t -= o->chunks[i++];
    const qgemm_product *p = &o->m[i]->product;
    const int64_t lo = t * o->chunk[i], hi = lo + o->chunk[i] < p->rows ? lo + o->chunk[i] : p->rows;
    sparrow_quantized_gemm(ISA, p->type, p->weights, p->row_bytes, p->length, lo, hi, &p->matrix, 0, 1, o->m[i]->y,
                           p->rows);
}

/// Takes the front (or back) task of thread p's range: its index, or −1 when the range is empty.
static int64_t take(int p, int from_back) {
    uint64_t s = atomic_load(&ranges[p]);
    for (;;) {
        const uint64_t front = (uint32_t)s, back = s >> 32;
        if (front >= back) return -1;
        const uint64_t taken = from_back ? front | (back - 1) << 32 : (front + 1) | back << 32;
        if (atomic_compare_exchange_weak(&ranges[p], &s, taken)) return (int64_t)(from_back ? back - 1 : front);
    }
}

static void set_ranges(const operation *o) {
    for (int p = 0; p < threads; p++)
        atomic_store(&ranges[p], (uint64_t)(o->tasks * p / threads) | (uint64_t)(o->tasks * (p + 1) / threads) << 32);
}

static void run_operation(const operation *o, int me) {
    int64_t t;
    if (shared_schedule) {
        while ((t = atomic_fetch_add(&next_task, 1)) < o->tasks) run_task(o, t);
        return;
    }
    while ((t = take(me, 0)) >= 0) run_task(o, t);
    for (int step = 1; step < threads; step++)
        while ((t = take((me + step) % threads, 1)) >= 0) run_task(o, t);
}

/// The last thread to arrive prepares the next operation, then releases the others.
static void barrier(int *sense, const operation *next) {
    *sense = !*sense;
    if (atomic_fetch_add(&arrived, 1) == threads - 1) {
        atomic_store(&arrived, 0);
        atomic_store(&next_task, 0);
        set_ranges(next);
        atomic_store(&phase, *sense);
    } else {
        while (atomic_load(&phase) != *sense) __builtin_ia32_pause();
    }
}

static void *decode(void *argument) {
    const int me = (int)(intptr_t)argument;
    int sense = atomic_load(&phase);
    for (int token = 0; token < tokens; token++)
        for (int i = 0; i < operation_count; i++) {
            run_operation(&operations[i], me);
            barrier(&sense, &operations[(i + 1) % operation_count]);
        }
    return NULL;
}

/// Tokens per second of one run of `tokens` tokens.
static double run(void) {
    pthread_t workers[MAX_THREADS];
    atomic_store(&next_task, 0);
    set_ranges(&operations[0]);
    const double start = seconds();
    for (intptr_t i = 1; i < threads; i++) pthread_create(&workers[i], NULL, decode, (void *)i);
    decode(0);
    for (int i = 1; i < threads; i++) pthread_join(workers[i], NULL);
    return tokens / (seconds() - start);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s THREADS TOKENS [RUNS]\n", argv[0]);
        return 2;
    }
    threads = atoi(argv[1]), tokens = atoi(argv[2]);
    const int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (threads < 1 || threads > MAX_THREADS || tokens < 1) return 2;
    if (getenv("TASKS_PER_THREAD")) tasks_per_thread = atoi(getenv("TASKS_PER_THREAD"));
    shared_schedule = getenv("SCHEDULE") && !strcmp(getenv("SCHEDULE"), "shared");
    // llama.cpp's Q4_K_M mix for TinyLlama: Q6_K attn_v and ffn_down in these layers, Q4_K elsewhere.
    const int q6_layers[] = {0, 1, 4, 7, 10, 13, 16, 19, 20, 21};
    for (int layer = 0; layer < 22; layer++) {
        int six = 0;
        for (int j = 0; j < 10; j++) six |= q6_layers[j] == layer;
        add_operation(make_matrix(12, 2048, 2048), make_matrix(12, 256, 2048), make_matrix(six ? 14 : 12, 256, 2048));
        add_operation(make_matrix(12, 2048, 2048), NULL, NULL);
        add_operation(make_matrix(12, 5632, 2048), make_matrix(12, 5632, 2048), NULL);
        add_operation(make_matrix(six ? 14 : 12, 2048, 5632), NULL, NULL);
    }
    add_operation(make_matrix(14, 32000, 2048), NULL, NULL);
    if (getenv("SERVE")) {
        char line[64];
        while (fgets(line, sizeof line, stdin)) printf("%.3f\n", run()), fflush(stdout);
        return 0;
    }
    for (int r = 0; r < runs; r++) printf("%.2f tok/s\n", run());
    return 0;
}
