// The quantized kernels for avxvnni (avx2,fma,f16c,avxvnni), chosen at run time (quant.c).
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "CKernels.h"
#include "quant_dispatch.h"

#pragma clang fp contract(off)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avxvnni"))), apply_to = function)

#include "quant_common.h"
#define VNNI 1
#include "quant_x86_primitives.h"

#define SUFFIX(name) name##_avxvnni
#define RT_Q6 2
/// One column (decoding) takes four rows a tile, as in quant_avx2.c.
#define RT_Q6_ONE 4
#define CT_Q6 2
#include "quant_body.h"

#pragma clang attribute pop
#endif
