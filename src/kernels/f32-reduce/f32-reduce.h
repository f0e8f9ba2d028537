/* Reductions of one contiguous row: LayerNorm's mean/variance (ReduceMean over the last axis)
 * and softmax's row max. */
#ifndef OFX_KERNELS_F32_REDUCE_H
#define OFX_KERNELS_F32_REDUCE_H

#include <stddef.h>

#include "kernels/common.h"

/* Returns in[0] + ... + in[n-1] (0 for n = 0). */
typedef float (*ofx_f32_rsum_fn)(size_t n, const float *in);
/* Returns the largest in[i]; a NaN never replaces the running max, so NaNs are skipped and a
 * row of NaNs (or n = 0) gives -inf. */
typedef float (*ofx_f32_rmax_fn)(size_t n, const float *in);

/* sum accumulated in double */
float ofx_f32_rsum__scalar(size_t n, const float *in);
float ofx_f32_rmax__scalar(size_t n, const float *in);

#if OFX_ARCH_WASMSIMD
/* 16 float lanes: within 1e-6 * sum|in[i]| of the scalar version */
float ofx_f32_rsum__wasmsimd_u16(size_t n, const float *in);
/* equal to the scalar version (up to the sign of a zero max) */
float ofx_f32_rmax__wasmsimd_u16(size_t n, const float *in);
#endif

#endif
