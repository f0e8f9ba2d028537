/* The MRx8 scalar indirect-GEMM reference, shared by the generated MRx8 scalar kernels. */
#ifndef OFX_KERNELS_F32_IGEMM_MRX8_SCALAR_H
#define OFX_KERNELS_F32_IGEMM_MRX8_SCALAR_H

#include <stdint.h>

#include "kernels/f32-igemm/f32-igemm.h"

#define OFX_IGEMM_MRX8_MAX 8

static inline void ofx_f32_igemm_mrx8_scalar(size_t MR, size_t mr, size_t nc, size_t kc,
                                             size_t ks, const float **a, const float *w,
                                             float *c, size_t cm_stride, size_t cn_stride,
                                             size_t a_offset, const float *zero,
                                             const ofx_f32_minmax_params *params) {
  float *cr[OFX_IGEMM_MRX8_MAX];
  cr[0] = c;
  for (size_t i = 1; i < MR; i++) cr[i] = i < mr ? c + i * cm_stride : cr[i - 1];
  for (;;) {
    float acc[OFX_IGEMM_MRX8_MAX][8];
    for (size_t i = 0; i < MR; i++)
      for (size_t j = 0; j < 8; j++) acc[i][j] = w[j];
    w += 8;
    for (size_t t = 0; t < ks; t++) {
      const float *ar[OFX_IGEMM_MRX8_MAX];
      for (size_t i = 0; i < MR; i++) {
        const float *p = a[t * MR + i];
        ar[i] = p == zero ? zero : (const float *)((uintptr_t)p + a_offset);
      }
      for (size_t kk = 0; kk < kc; kk++) {
        for (size_t i = 0; i < MR; i++)
          for (size_t j = 0; j < 8; j++) acc[i][j] += ar[i][kk] * w[j];
        w += 8;
      }
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
