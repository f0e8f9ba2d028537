#include <stdint.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

#define TAPS 9

void ofx_f32_dwconv_minmax_ukernel_9p1c__scalar(size_t taps, size_t channels, size_t output_width,
                                                 const float **input, const float *weights,
                                                 float *output, size_t input_stride,
                                                 size_t output_pixel_stride, size_t input_offset,
                                                 const float *zero,
                                                 const ofx_f32_minmax_params *params) {
  for (size_t x = 0; x < output_width; x++) {
    const float *in[TAPS];
    for (size_t t = 0; t < TAPS; t++) {
      const float *p = input[x * input_stride + t];
      in[t] = p == zero ? zero : (const float *)((uintptr_t)p + input_offset);
    }
    const float *w = weights;
    float *out = output + x * output_pixel_stride;
    for (size_t c = 0; c < channels; c++) {
      float acc = w[0];
      for (size_t t = 0; t < TAPS; t++) acc += in[t][c] * w[1 + t];
      out[c] = ofx_clampf(acc, params->min, params->max);
      w += TAPS + 1;
    }
  }
}
