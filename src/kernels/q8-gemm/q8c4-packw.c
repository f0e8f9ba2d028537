/* Weight packing and activation staging of the c4 8-bit GEMM (q8-gemm.h): every weight in its
 * unsigned form split into a 7-bit low part and a high bit, so that both stay in the range where
 * i32x4.relaxed_dot_i8x16_i7x16_add is exact on every engine; the zero points and column sums
 * that correct for the unsigned forms go in the block header, computed once here. */
#include "kernels/q8-gemm/q8-gemm.h"

size_t ofx_q8c4_packw_gemm_size(size_t n, size_t k, size_t nr) {
  const size_t blocks = ofx_divide_round_up(n, nr), groups = ofx_divide_round_up(k, OFX_Q8C4_GEMM_KR);
  return blocks * (nr * 4 * sizeof(float) + groups * 2 * nr * OFX_Q8C4_GEMM_KR);
}

void ofx_q8c4_packw_gemm(size_t n, size_t k, size_t nr, const void *w, size_t n_stride, size_t k_stride, bool is_signed,
                         const int32_t *zero_point, bool per_column, const float *scale, const float *bias, void *packed) {
  const size_t groups = ofx_divide_round_up(k, OFX_Q8C4_GEMM_KR), group_bytes = 2 * nr * OFX_Q8C4_GEMM_KR;
  const int32_t to_unsigned = is_signed ? 128 : 0;
  char *out = packed;
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    float *head = (float *)out;
    int32_t *zv = (int32_t *)(head + 2 * nr), *csum = zv + nr;
    uint8_t *body = (uint8_t *)(csum + nr);
    for (size_t jj = 0; jj < nr; jj++) {
      const size_t j = j0 + jj;
      head[jj] = j < n ? scale[j] : 0.0f;
      head[nr + jj] = j < n && bias ? bias[j] : 0.0f;
      zv[jj] = j < n ? zero_point[per_column ? j : 0] + to_unsigned : 0;
      csum[jj] = 0;
    }
    for (size_t g = 0; g < groups; g++)
      for (size_t jj = 0; jj < nr; jj++)
        for (size_t r = 0; r < OFX_Q8C4_GEMM_KR; r++) {
          const size_t j = j0 + jj, kk = g * OFX_Q8C4_GEMM_KR + r;
          int32_t v = 0; /* padding: lo = hi = 0, outside C */
          if (j < n && kk < k) {
            const size_t at = j * n_stride + kk * k_stride;
            v = (is_signed ? ((const int8_t *)w)[at] : ((const uint8_t *)w)[at]) + to_unsigned;
            csum[jj] += v - zv[jj];
          }
          body[g * group_bytes + jj * OFX_Q8C4_GEMM_KR + r] = (uint8_t)(v & 127);
          body[g * group_bytes + (nr + jj) * OFX_Q8C4_GEMM_KR + r] = (uint8_t)(v >> 7);
        }
    out += nr * 4 * sizeof(float) + groups * group_bytes;
  }
}

void ofx_x8_to_s8__scalar(size_t n, const void *x, bool is_signed, int8_t *y) {
  const uint8_t flip = is_signed ? 0 : 0x80;
  for (size_t i = 0; i < n; i++) y[i] = (int8_t)(((const uint8_t *)x)[i] ^ flip);
}
