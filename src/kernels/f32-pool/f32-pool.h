/* Pooling kernels over one NCHW plane at a time. */
#ifndef OFX_KERNELS_F32_POOL_H
#define OFX_KERNELS_F32_POOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ofx_pool2d_params {
  size_t in_height, in_width, out_height, out_width;
  size_t kernel_height, kernel_width;
  size_t stride_height, stride_width;
  size_t dilation_height, dilation_width;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  bool count_include_pad; /* average pooling: divide by the window including padding */
} ofx_pool2d_params;

void ofx_f32_maxpool2d_nchw__scalar(const ofx_pool2d_params *p, size_t planes, const float *input,
                                    float *output);
void ofx_f32_avgpool2d_nchw__scalar(const ofx_pool2d_params *p, size_t planes, const float *input,
                                    float *output);
/* output[i] = mean of the `plane_size` elements of plane i */
void ofx_f32_global_avgpool_nchw__scalar(size_t planes, size_t plane_size, const float *input,
                                         float *output);

#endif
