/* Depthwise convolution, NHWC, unipass (all taps in one pass): 3x3 (9 taps), 5x5 (25), and
 * any other kernel of up to OFX_DWCONV_MAX_TAPS taps (7x7 of ConvNeXt, 1-D kernels, ...). */
#ifndef OFX_KERNELS_F32_DWCONV_H
#define OFX_KERNELS_F32_DWCONV_H

#include <stddef.h>

#include "kernels/common.h"
#include "kernels/f32-vunary/f32-vunary.h"

typedef struct ofx_threadpool ofx_threadpool;

/* Largest tap count the any-taps kernels take (their tap pointers live on the stack). */
#define OFX_DWCONV_MAX_TAPS 128

/* DWCONV micro-kernel contract (floats, input_offset in bytes), CR fixed per kernel and TAPS
 * either fixed (the taps argument must equal it) or any (registered with taps 0):
 *   for each of output_width pixels x: the TAPS pointers input[x*input_stride + t] (each
 *   advanced by input_offset bytes unless equal to zero) point at `channels` NHWC channels;
 *     output[x*output_pixel_stride + c] = clamp(bias[c] + sum_t in_t[c] * w_t[c])
 *   weights packed by ofx_x32_packw_dwconv_chw(channels, TAPS, CR). zero holds >= channels
 *   zeros. The indirection buffer of ofx_indirection_init_conv2d_nhwc with mr = 1 is exactly
 *   this layout (input_stride = TAPS); strides/dilations/padding live in the pointers. */
typedef void (*ofx_f32_dwconv_minmax_ukernel_fn)(size_t taps, size_t channels, size_t output_width,
                                                  const float **input, const float *weights,
                                                  float *output, size_t input_stride,
                                                  size_t output_pixel_stride, size_t input_offset,
                                                  const float *zero,
                                                  const ofx_f32_minmax_params *params);

#define OFX_DWCONV_UKERNEL(arch, ukernel, taps_, cr_)                                       \
  void ukernel(size_t taps, size_t channels, size_t output_width, const float **input,                 \
               const float *weights, float *output, size_t input_stride,                  \
               size_t output_pixel_stride, size_t input_offset, const float *zero,        \
               const ofx_f32_minmax_params *params);
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef OFX_DWCONV_UKERNEL

/* One image: out_pixels outputs of `channels` channels, 1 <= taps <= OFX_DWCONV_MAX_TAPS
 * (the caller falls back otherwise), weights packed with cr = ofx_kernels()->dwconv_cr,
 * indirection built with mr = 1. post (NULL: none) runs in place on each output tile right
 * after it is computed. Threads over the pool when not NULL. */
void ofx_f32_dwconv(size_t taps, size_t channels, size_t out_pixels, const float **indirection,
                    const float *packed_w, float *output, size_t output_pixel_stride,
                    size_t input_offset, const float *zero, float output_min, float output_max,
                    ofx_f32_vunary_fn post, ofx_threadpool *pool);

#endif
