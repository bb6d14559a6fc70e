// Attention kernels (see CKernels.h for the conventions every kernel here follows).
//
// Every output is computed for one (query row, head) pair at a time by the same code, whatever the
// number of rows, the instruction set or the split of pairs across threads, so a token's attention
// output is the same bits in one prefill, in chunks, or decoded alone. The order of the Float
// operations (attention_impl.h documents it):
//
// - score s_j = scale · (q · k_j): the products are fused into 16 lane sums, lane l taking the
//   elements l, l + 16, l + 32, … in increasing order (a last partial block padded with zeros),
//   and the lanes are added pairwise: l + (l + 8), then + 4, + 2, + 1;
// - softmax: m = max s_j; e_j = exp(s_j − m) by a polynomial with explicit fused multiply-adds
//   (0 below −87); Σ e_j in Double, in 16 lanes j mod 16 in increasing j, then added pairwise as
//   above; p_j = e_j · Float(1 / Σ); rounded to binary16 when asked;
// - out[c] = Σ_j p_j · v_j[c]: one fused multiply-add per position, in increasing j from 0.
//
// Where the positions are stored (one run of rows, or the blocks of a paged cache) changes no bit.
//
// binary16 values are passed as raw 16-bit patterns (`void *`), converted with round to nearest
// even (overflow to infinity, subnormals kept, NaN kept quiet), as Swift's `Float16(x)` does.
#ifndef SPARROW_CKERNELS_ATTENTION_H
#define SPARROW_CKERNELS_ATTENTION_H

#include <stdint.h>

/// One layer's attention for `rows` query tokens at positions start ..< start + rows, over a KV
/// cache that already holds positions 0 ..< start + rows.
typedef struct sparrow_attention_problem {
    /// [rows, heads × head_dim]: each row's queries, already rotated (and rounded, if the model
    /// rounds them).
    const float *queries;
    /// The cache's keys and values, Float or binary16 (`half_cache`). Without a block table,
    /// position p's row starts p × kv_heads × head_dim entries in; with one, it starts
    /// block_table[p / block_size] × block_stride + (p mod block_size) × kv_heads × head_dim entries
    /// in. Kv head g's `head_dim` entries are g × head_dim into the row.
    const void *keys;
    const void *values;
    /// The block each run of `block_size` positions is stored in (a paged cache), or NULL for rows
    /// that follow one another.
    const int32_t *block_table;
    /// Positions per block (when there is a table).
    int64_t block_size;
    /// Entries from one block's first row to the next block's (when there is a table).
    int64_t block_stride;
    /// [rows, heads × head_dim]: the attention output.
    float *out;
    int64_t rows;
    /// The position of the first row.
    int64_t start;
    int64_t heads;
    /// A divisor of `heads`: head h reads kv head h / (heads / kv_heads).
    int64_t kv_heads;
    int64_t head_dim;
    /// Positions a token attends to, itself included; 0 for every earlier position.
    int64_t window;
    /// The factor applied to each q · k (1/√head_dim, or 1 when the queries carry it).
    float scale;
    /// Keys and values are binary16 (1) or Float (0).
    int32_t half_cache;
    /// The probabilities are rounded to binary16 before the product with the values (1) or not (0).
    int32_t half_probabilities;
} sparrow_attention_problem;

/// The Floats of scratch one call of `sparrow_attention` needs when rows attend to at most
/// `positions` positions (`positions` rounded up to a multiple of 16).
int64_t sparrow_attention_scratch(int64_t positions);

/// Writes the output of the (row, head) pairs `begin ..< end` of `problem`, where pair i is head
/// i / rows, row i % rows (a contiguous range covers few heads, so it reads few kv heads), using
/// `scratch` (`sparrow_attention_scratch(start + rows)` Floats, or fewer with a window). Ranges
/// split across threads must each have their own scratch. Returns 0, or −1 when this build has no
/// kernel for `isa` (nothing is written then). `isa` must be supported by this CPU.
int sparrow_attention(int isa, const sparrow_attention_problem *problem, int64_t begin, int64_t end,
                      float *scratch);

/// y[i] = binary16(x[i]), round to nearest even, for `count` values. Returns 0, or −1 as above.
int sparrow_f16_from_f32(int isa, const float *x, void *y, int64_t count);

/// y[i] = Float(x[i]) for `count` binary16 values (exact). Returns 0, or −1 as above.
int sparrow_f32_from_f16(int isa, const void *x, float *y, int64_t count);

/// y[i] = Float(binary16(x[i])), round to nearest even; `y` may be `x`. Returns 0, or −1 as above.
int sparrow_round_f16(int isa, const float *x, float *y, int64_t count);

#endif
