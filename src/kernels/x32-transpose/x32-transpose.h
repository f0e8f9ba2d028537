/* 32-bit matrix transpose, the NCHW <-> NHWC layout conversion of one image:
 *   NCHW -> NHWC: rows = C, cols = H*W;   NHWC -> NCHW: rows = H*W, cols = C. */
#ifndef OFX_KERNELS_X32_TRANSPOSE_H
#define OFX_KERNELS_X32_TRANSPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/common.h"

/* out[j*out_stride + i] = in[i*in_stride + j] for i < rows, j < cols (strides in elements). */
typedef void (*ofx_x32_transpose_fn)(size_t rows, size_t cols, const uint32_t *in,
                                     size_t in_stride, uint32_t *out, size_t out_stride);

void ofx_x32_transpose_ukernel__scalar(size_t rows, size_t cols, const uint32_t *in,
                                       size_t in_stride, uint32_t *out, size_t out_stride);
#if OFX_ARCH_WASMSIMD
void ofx_x32_transpose_ukernel_4x4__wasmsimd(size_t rows, size_t cols, const uint32_t *in,
                                             size_t in_stride, uint32_t *out, size_t out_stride);
#endif

/* One image through the configured transpose kernel. */
void ofx_f32_nchw_to_nhwc(size_t channels, size_t pixels, const float *in, float *out);
void ofx_f32_nhwc_to_nchw(size_t channels, size_t pixels, const float *in, float *out);

#endif
