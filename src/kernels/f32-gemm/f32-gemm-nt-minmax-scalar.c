#include "kernels/f32-gemm/f32-gemm.h"

void ofx_f32_gemm_nt_minmax__scalar(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                                    const float *w, size_t w_stride, const float *bias, float *c,
                                    size_t c_stride, float output_min, float output_max) {
  for (size_t i = 0; i < m; i++) {
    const float *a_row = a + i * a_stride;
    for (size_t j = 0; j < n; j++) {
      const float *w_row = w + j * w_stride;
      float acc = bias ? bias[j] : 0.0f;
      for (size_t x = 0; x < k; x++) acc += a_row[x] * w_row[x];
      acc = acc < output_min ? output_min : acc;
      c[i * c_stride + j] = acc > output_max ? output_max : acc;
    }
  }
}
