/* 8-bit matrix transpose: the NCHW <-> NHWC conversion of quantized images (uint8/int8). */
#ifndef OFX_KERNELS_X8_TRANSPOSE_H
#define OFX_KERNELS_X8_TRANSPOSE_H

#include <stddef.h>
#include <stdint.h>

/* out[j*out_stride + i] = in[i*in_stride + j] for i < rows, j < cols (strides in elements). */
void ofx_x8_transpose__scalar(size_t rows, size_t cols, const uint8_t *in, size_t in_stride, uint8_t *out, size_t out_stride);

#endif
