#include "kernels/q8-dwconv/q8-dwconv.h"

void ofx_q8_dwconv_minmax_ukernel__scalar(size_t channels, size_t taps, const uint8_t *const *x, bool is_signed,
                                          int32_t zero_point, const int16_t *w, const float *scale, const float *bias,
                                          float *y, float output_min, float output_max) {
  for (size_t c = 0; c < channels; c++) {
    int32_t acc = 0;
    for (size_t t = 0; t < taps; t++) {
      const int32_t v = is_signed ? (int32_t)(int8_t)x[t][c] : (int32_t)x[t][c];
      acc += (v - zero_point) * w[t * channels + c];
    }
    const float f = (float)acc * scale[c] + bias[c];
    y[c] = f < output_min ? output_min : f > output_max ? output_max : f;
  }
}
