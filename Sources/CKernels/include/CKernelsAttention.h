// Attention kernels (see CKernels.h for the conventions every kernel here follows).
#ifndef SPARROW_CKERNELS_ATTENTION_H
#define SPARROW_CKERNELS_ATTENTION_H

#include <stdint.h>

#endif
