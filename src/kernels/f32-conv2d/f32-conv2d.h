/* 2-D convolution kernels. Raw pointers and params only: no graph types. */
#ifndef OFX_KERNELS_F32_CONV2D_H
#define OFX_KERNELS_F32_CONV2D_H

#include <stddef.h>

typedef struct ofx_conv2d_params {
  size_t in_channels, in_height, in_width;    /* per group */
  size_t out_channels, out_height, out_width; /* per group */
  size_t kernel_height, kernel_width;
  size_t stride_height, stride_width;
  size_t dilation_height, dilation_width;
  size_t pad_top, pad_left;
  float output_min, output_max; /* fused clamp; -inf/+inf when none */
} ofx_conv2d_params;

/* One image, one group, NCHW: output[oc] = clamp(bias[oc] + sum weights[oc][ic][kh][kw] * input).
 * Weights are [out_channels][in_channels][kernel_height][kernel_width]. The reference every
 * faster convolution is tested against. */
void ofx_f32_conv2d_nchw_minmax__scalar(const ofx_conv2d_params *p, const float *input,
                                        const float *weights, const float *bias, float *output);

#endif
