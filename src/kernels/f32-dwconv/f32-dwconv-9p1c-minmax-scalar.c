/* 9 taps: the any-taps scalar kernel with the count fixed (the reference of 9p4c/9p8c). */
#include "kernels/f32-dwconv/f32-dwconv.h"

void ofx_f32_dwconv_minmax_ukernel_9p1c__scalar(size_t taps, size_t channels, size_t output_width,
                                                 const float **input, const float *weights,
                                                 float *output, size_t input_stride,
                                                 size_t output_pixel_stride, size_t input_offset,
                                                 const float *zero,
                                                 const ofx_f32_minmax_params *params) {
  (void)taps; /* the contract makes it 9 */
  ofx_f32_dwconv_minmax_ukernel_up1c__scalar(9, channels, output_width, input, weights, output, input_stride,
                                             output_pixel_stride, input_offset, zero, params);
}
