// Which instruction sets this machine runs, detected once.
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// XCR0, the register/state components the operating system saves (xgetbv with ecx = 0).
static uint64_t xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return SPARROW_ISA_PORTABLE;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c)) return SPARROW_ISA_PORTABLE;
    const uint64_t state = xcr0();
    // The OS saves the SSE and AVX registers (bits 1, 2).
    if ((state & 0x6) != 0x6) return SPARROW_ISA_PORTABLE;
    if (__get_cpuid_max(0, 0) < 7) return SPARROW_ISA_PORTABLE;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    const int avx512vnni = (c >> 11) & 1;
    if (!avx2) return SPARROW_ISA_PORTABLE;
    // ... and the opmask and upper ZMM state (bits 5–7).
    if (avx512f && avx512bw && avx512vl && avx512vnni && (state & 0xE0) == 0xE0) return SPARROW_ISA_AVX512_VNNI;
    __cpuid_count(7, 1, a, b, c, d);
    const int avxvnni = (a >> 4) & 1;
    return avxvnni ? SPARROW_ISA_AVX_VNNI : SPARROW_ISA_AVX2;
}
#else
static int detect(void) { return SPARROW_ISA_PORTABLE; }
#endif

/// The detected level, or −1 before the first call. Racing first calls compute the same value.
static int detected = -1;

static int hardware(void) {
    int level = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (level < 0) {
        level = detect();
        __atomic_store_n(&detected, level, __ATOMIC_RELAXED);
    }
    return level;
}

int sparrow_isa_supported(int isa) {
    if (isa < 0 || isa >= SPARROW_ISA_COUNT) return 0;
    const int best = hardware();
    // AVX-VNNI (VEX) and AVX-512 VNNI are separate features: a CPU with AVX-512 VNNI may lack the
    // VEX form. The AVX-VNNI kernels are only offered where cpuid reports it.
    if (isa == SPARROW_ISA_AVX_VNNI && best == SPARROW_ISA_AVX512_VNNI) {
#if defined(__x86_64__) || defined(__i386__)
        unsigned a, b, c, d;
        __cpuid_count(7, 1, a, b, c, d);
        return (a >> 4) & 1;
#else
        return 0;
#endif
    }
    return isa <= best;
}

static int chosen = -1;

int sparrow_isa_best(void) {
    int level = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (level >= 0) return level;
    level = hardware();
    const char *forced = getenv("SPARROW_ISA");
    if (forced) {
        static const char *names[SPARROW_ISA_COUNT] = {"portable", "avx2", "avxvnni", "avx512vnni"};
        for (int i = 0; i < SPARROW_ISA_COUNT; i++) {
            if (strcmp(forced, names[i]) == 0 && sparrow_isa_supported(i)) level = i;
        }
    }
    __atomic_store_n(&chosen, level, __ATOMIC_RELAXED);
    return level;
}
