/* The MRx8 scalar GEMM reference, shared by the generated MRx8 scalar kernels (the 4x8 and 1x8
 * ones are written out). Rows past mr alias the previous row, like the SIMD kernels. */
#ifndef OFX_KERNELS_F32_GEMM_MRX8_SCALAR_H
#define OFX_KERNELS_F32_GEMM_MRX8_SCALAR_H

#include "kernels/f32-gemm/f32-gemm.h"

#define OFX_MRX8_MAX 8

static inline void ofx_f32_gemm_mrx8_scalar(size_t MR, size_t mr, size_t nc, size_t kc,
                                            const float *a, size_t a_stride, const float *w,
                                            float *c, size_t cm_stride, size_t cn_stride,
                                            const ofx_f32_minmax_params *params) {
  const float *ar[OFX_MRX8_MAX];
  float *cr[OFX_MRX8_MAX];
  ar[0] = a;
  cr[0] = c;
  for (size_t i = 1; i < MR; i++) {
    ar[i] = i < mr ? a + i * a_stride : ar[i - 1];
    cr[i] = i < mr ? c + i * cm_stride : cr[i - 1];
  }
  for (;;) {
    float acc[OFX_MRX8_MAX][8];
    for (size_t i = 0; i < MR; i++)
      for (size_t j = 0; j < 8; j++) acc[i][j] = w[j];
    w += 8;
    for (size_t kk = 0; kk < kc; kk++) {
      for (size_t i = 0; i < MR; i++)
        for (size_t j = 0; j < 8; j++) acc[i][j] += ar[i][kk] * w[j];
      w += 8;
    }
    const size_t nb = nc < 8 ? nc : 8;
    for (size_t i = MR; i-- > 0;) {
      for (size_t j = 0; j < nb; j++) cr[i][j] = ofx_clampf(acc[i][j], params->min, params->max);
      cr[i] += cn_stride;
    }
    if (nc <= 8) return;
    nc -= 8;
  }
}

#endif
