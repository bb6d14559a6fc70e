// The K-quant sweeps of the 256-bit kernels (AVX2): each run of super-blocks of a tile's rows is
// unpacked once and read by every column tile, instead of once per tile. Included by quant_body.h
// where the including variant defines K_SWEEPS; uses its primitives and gemm_ctx.
#ifndef SPARROW_QUANT_KSWEEP_H
#define SPARROW_QUANT_KSWEEP_H

/// Super-blocks a Q6_K sweep unpacks at once (its scratch: 8 × MAX_TILE rows × 544 bytes).
#define SWEEP_KBLOCKS 8

/// One row's Q6_K super-block, unpacked once for every column of a sweep: q6_K_narrow's u and
/// scale for each group of 32, and d.
typedef struct k6_unpacked {
    u8x32 u[8];
    i16x16 scale[8];
    /// d in every lane.
    f32x8 d;
} k6_unpacked;

INLINE void k6_unpack(const uint8_t *blk, k6_unpacked *out) {
    for (int grp = 0; grp < 8; grp++) out->u[grp] = k6_group(blk, grp);
    k6_scale_splats(blk, out->scale);
    out->d = splat8(half_to_float(blk + 208));
}

/// RT rows × columns c0..<c1 (at most COLUMN_BLOCK) of Q6_K, as quant_rows8.h's sweeps do:
/// each run of super-blocks is unpacked once (k6_unpack) for every column tile. Per row and
/// column, the arithmetic and its order are q6_K_narrow's exactly.
INLINE void q6_K_sweep_run(const gemm_ctx *g, const k6_unpacked (*us)[MAX_TILE], int64_t b0, int64_t nb, int64_t c,
                           int64_t c0, f32x8 (*accs)[MAX_TILE], const int RT, const int CT) {
    const int64_t n = g->x->count;
    const u8x32 thirtyTwo = (u8x32){0} + (uint8_t)32;
    for (int64_t k = 0; k < nb; k++) {
        const int64_t b = b0 + k;
        const k6_unpacked *u = us[k];
        i32x8 sumi[MAX_TILE][MAX_TILE];
        for (int i = 0; i < RT; i++)
            for (int j = 0; j < CT; j++) sumi[i][j] = (i32x8){0};
        for (int grp = 0; grp < 8; grp++) {
            u8x32 q[MAX_TILE];
            for (int i = 0; i < RT; i++) q[i] = u[i].u[grp];
            for (int j = 0; j < CT; j++) {
                const i8x32 x = load_i8x32(g->x->qs + (c + j) * n + b * 256 + 32 * grp);
                const i16x16 offset = maddubs16(thirtyTwo, x);
                for (int i = 0; i < RT; i++) sumi[i][j] = kdot(sumi[i][j], q[i], x, u[i].scale[grp], offset);
            }
        }
        for (int j = 0; j < CT; j++) {
            const f32x8 xd = splat8(g->x->scales[(c + j) * (n / 256) + b]);
            for (int i = 0; i < RT; i++) accs[c - c0 + j][i] = fma8(xd * u[i].d, to_float8(sumi[i][j]), accs[c - c0 + j][i]);
        }
    }
}

INLINE void q6_K_sweep(const gemm_ctx *g, int64_t r, int64_t c0, int64_t c1, const int RT, const int CT) {
    f32x8 accs[COLUMN_BLOCK][MAX_TILE];
    k6_unpacked us[SWEEP_KBLOCKS][MAX_TILE];
    for (int64_t j = 0; j < c1 - c0; j++)
        for (int i = 0; i < RT; i++) accs[j][i] = splat8(0);
    for (int64_t b0 = 0; b0 < g->blocks; b0 += SWEEP_KBLOCKS) {
        const int64_t nb = g->blocks - b0 < SWEEP_KBLOCKS ? g->blocks - b0 : SWEEP_KBLOCKS;
        for (int64_t k = 0; k < nb; k++) {
            prefetch_next_tile(g->w, g->row_bytes, g->blocks, r, RT, b0 + k);
            for (int i = 0; i < RT; i++) k6_unpack(g->w + (r + i) * g->row_bytes + (b0 + k) * 210, &us[k][i]);
        }
        int64_t c = c0;
        for (; c + CT <= c1; c += CT) q6_K_sweep_run(g, us, b0, nb, c, c0, accs, RT, CT);
        switch (c1 - c) {
        case 1: q6_K_sweep_run(g, us, b0, nb, c, c0, accs, RT, 1); break;
        case 2: if (CT > 2) q6_K_sweep_run(g, us, b0, nb, c, c0, accs, RT, 2); break;
        case 3: if (CT > 3) q6_K_sweep_run(g, us, b0, nb, c, c0, accs, RT, 3); break;
        case 4: if (CT > 4) q6_K_sweep_run(g, us, b0, nb, c, c0, accs, RT, 4); break;
        case 5: if (CT > 5) q6_K_sweep_run(g, us, b0, nb, c, c0, accs, RT, 5); break;
        default: break;
        }
    }
    for (int i = 0; i < RT; i++)
        for (int64_t j = 0; j < c1 - c0; j++) g->y[(c0 + j) * g->ldy + r + i] = hsum8(accs[j][i]);
}

#endif
