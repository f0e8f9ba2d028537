/* Scalar references of the 8-bit GEMM micro-kernels (q8-gemm.h): exact int32 sums, then the
 * same float epilogue as the SIMD kernels, so results agree bit for bit. */
#include <math.h>

#include "kernels/q8-gemm/q8-gemm.h"

static inline void q8_gemm_mrx8c2(size_t MR, size_t mr, size_t nc, size_t kc, const int16_t *a, size_t a_stride,
                                  const void *w, float *c, size_t cm_stride, size_t cn_stride,
                                  const ofx_f32_minmax_params *params) {
  enum { NR = 8 };
  const size_t groups = ofx_divide_round_up(kc, OFX_Q8_GEMM_KR);
  const char *wb = w;
  for (size_t j0 = 0; j0 < nc; j0 += NR) {
    const float *scale = (const float *)wb, *bias = scale + NR;
    const int16_t *wk = (const int16_t *)(wb + NR * 2 * sizeof(float));
    for (size_t i = 0; i < MR && i < mr; i++) {
      int32_t acc[NR] = {0};
      const int16_t *ai = a + i * a_stride;
      for (size_t g = 0; g < groups; g++)
        for (size_t jj = 0; jj < NR; jj++)
          for (size_t r = 0; r < OFX_Q8_GEMM_KR; r++)
            acc[jj] += (int32_t)ai[g * OFX_Q8_GEMM_KR + r] * wk[(g * NR + jj) * OFX_Q8_GEMM_KR + r];
      float *ci = c + i * cm_stride + (j0 / NR) * cn_stride;
      for (size_t jj = 0; jj < NR && j0 + jj < nc; jj++) {
        const float v = (float)acc[jj] * scale[jj] + bias[jj];
        ci[jj] = fminf(fmaxf(v, params->min), params->max);
      }
    }
    wb += NR * 2 * sizeof(float) + groups * NR * OFX_Q8_GEMM_KR * sizeof(int16_t);
  }
}

void ofx_q8_gemm_minmax_ukernel_1x8c2__scalar(size_t mr, size_t nc, size_t kc, const int16_t *a, size_t a_stride,
                                               const void *w, float *c, size_t cm_stride, size_t cn_stride,
                                               const ofx_f32_minmax_params *params) {
  q8_gemm_mrx8c2(1, mr, nc, kc, a, a_stride, w, c, cm_stride, cn_stride, params);
}

void ofx_q8_gemm_minmax_ukernel_4x8c2__scalar(size_t mr, size_t nc, size_t kc, const int16_t *a, size_t a_stride,
                                               const void *w, float *c, size_t cm_stride, size_t cn_stride,
                                               const ofx_f32_minmax_params *params) {
  q8_gemm_mrx8c2(4, mr, nc, kc, a, a_stride, w, c, cm_stride, cn_stride, params);
}
