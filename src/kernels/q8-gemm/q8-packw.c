/* Weight packing and activation widening for the 8-bit GEMM (q8-gemm.h). */
#include <string.h>

#include "kernels/q8-gemm/q8-gemm.h"

size_t ofx_q8_packw_gemm_size(size_t n, size_t k, size_t nr) {
  const size_t blocks = ofx_divide_round_up(n, nr), groups = ofx_divide_round_up(k, OFX_Q8_GEMM_KR);
  return blocks * (nr * 2 * sizeof(float) + groups * nr * OFX_Q8_GEMM_KR * sizeof(int16_t));
}

void ofx_q8_packw_gemm(size_t n, size_t k, size_t nr, const void *w, size_t n_stride, size_t k_stride, bool is_signed,
                       const int32_t *zero_point, bool per_column, const float *scale, const float *bias, void *packed) {
  const size_t groups = ofx_divide_round_up(k, OFX_Q8_GEMM_KR);
  char *out = packed;
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    float *head = (float *)out;
    for (size_t jj = 0; jj < nr; jj++) {
      const size_t j = j0 + jj;
      head[jj] = j < n ? scale[j] : 0.0f;
      head[nr + jj] = j < n && bias ? bias[j] : 0.0f;
    }
    int16_t *body = (int16_t *)(out + nr * 2 * sizeof(float));
    for (size_t g = 0; g < groups; g++)
      for (size_t jj = 0; jj < nr; jj++)
        for (size_t r = 0; r < OFX_Q8_GEMM_KR; r++) {
          const size_t j = j0 + jj, kk = g * OFX_Q8_GEMM_KR + r;
          int16_t v = 0;
          if (j < n && kk < k) {
            const size_t at = j * n_stride + kk * k_stride;
            const int32_t x = is_signed ? ((const int8_t *)w)[at] : ((const uint8_t *)w)[at];
            v = (int16_t)(x - zero_point[per_column ? j : 0]);
          }
          body[(g * nr + jj) * OFX_Q8_GEMM_KR + r] = v;
        }
    out += nr * 2 * sizeof(float) + groups * nr * OFX_Q8_GEMM_KR * sizeof(int16_t);
  }
}

void ofx_x8_to_s16__scalar(size_t n, const void *x, bool is_signed, int32_t zero_point, int16_t *y) {
  if (is_signed)
    for (size_t i = 0; i < n; i++) y[i] = (int16_t)(((const int8_t *)x)[i] - zero_point);
  else
    for (size_t i = 0; i < n; i++) y[i] = (int16_t)(((const uint8_t *)x)[i] - zero_point);
}
