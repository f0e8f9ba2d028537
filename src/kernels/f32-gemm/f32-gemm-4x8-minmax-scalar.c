#include "kernels/f32-gemm/f32-gemm.h"

void ofx_f32_gemm_minmax_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float *a,
                                             size_t a_stride, const float *w, float *c,
                                             size_t cm_stride, size_t cn_stride,
                                             const ofx_f32_minmax_params *params) {
  const float *ar[4];
  float *cr[4];
  /* rows past mr alias the previous row: same arithmetic, same stores, no branches inside */
  for (size_t i = 0; i < 4; i++) {
    ar[i] = i < mr ? a + i * a_stride : ar[i - 1];
    cr[i] = i < mr ? c + i * cm_stride : cr[i - 1];
  }
  const float vmin = params->min, vmax = params->max;
  for (;;) {
    float acc[4][8];
    for (size_t j = 0; j < 8; j++) acc[0][j] = acc[1][j] = acc[2][j] = acc[3][j] = w[j];
    w += 8;
    for (size_t kk = 0; kk < kc; kk++) {
      for (size_t i = 0; i < 4; i++) {
        const float av = ar[i][kk];
        for (size_t j = 0; j < 8; j++) acc[i][j] += av * w[j];
      }
      w += 8;
    }
    const size_t nb = nc < 8 ? nc : 8;
    for (size_t i = 4; i-- > 0;) {
      for (size_t j = 0; j < nb; j++) cr[i][j] = ofx_clampf(acc[i][j], vmin, vmax);
      cr[i] += cn_stride;
    }
    if (nc <= 8) return;
    nc -= 8;
  }
}
