#include <stdint.h>

#include "kernels/f32-igemm/f32-igemm.h"

void ofx_f32_igemm_minmax_ukernel_1x8__scalar(size_t mr, size_t nc, size_t kc, size_t ks,
                                              const float **a, const float *w, float *c,
                                              size_t cm_stride, size_t cn_stride,
                                              size_t a_offset, const float *zero,
                                              const ofx_f32_minmax_params *params) {
  const float vmin = params->min, vmax = params->max;
  for (;;) {
    float acc[8];
    for (size_t j = 0; j < 8; j++) acc[j] = w[j];
    w += 8;
    for (size_t t = 0; t < ks; t++) {
      const float *p = a[t];
      const float *ar = p == zero ? zero : (const float *)((uintptr_t)p + a_offset);
      for (size_t kk = 0; kk < kc; kk++) {
        const float av = ar[kk];
        for (size_t j = 0; j < 8; j++) acc[j] += av * w[j];
        w += 8;
      }
    }
    const size_t nb = nc < 8 ? nc : 8;
    for (size_t j = 0; j < nb; j++) c[j] = ofx_clampf(acc[j], vmin, vmax);
    if (nc <= 8) return;
    nc -= 8;
    c += cn_stride;
  }
}
