/* Scalar references of the c4 8-bit GEMM micro-kernels (q8-gemm.h): the packed 7-bit parts put
 * back together and corrected by the same zero points and sums as the relaxed kernels, in int64,
 * then the c2 kernels' float epilogue. */
#include <math.h>

#include "kernels/q8-gemm/q8-gemm.h"

static inline void q8c4_gemm_mrxnr(size_t MR, size_t NR, size_t mr, size_t nc, size_t kc, const int8_t *a, size_t a_stride,
                                   int32_t a_zero_point, const void *w, float *c, size_t cm_stride, size_t cn_stride,
                                   const ofx_f32_minmax_params *params) {
  const size_t KR = OFX_Q8C4_GEMM_KR, groups = ofx_divide_round_up(kc, KR);
  const char *wb = w;
  for (size_t j0 = 0; j0 < nc; j0 += NR) {
    const float *scale = (const float *)wb, *bias = scale + NR;
    const int32_t *zv = (const int32_t *)(bias + NR), *csum = zv + NR;
    const uint8_t *body = (const uint8_t *)(csum + NR);
    for (size_t i = 0; i < MR && i < mr; i++) {
      const int8_t *ai = a + i * a_stride;
      int64_t rsum = 0;
      for (size_t kk = 0; kk < groups * KR; kk++) rsum += ai[kk];
      float *ci = c + i * cm_stride + (j0 / NR) * cn_stride;
      for (size_t jj = 0; jj < NR && j0 + jj < nc; jj++) {
        int64_t acc = 0;
        for (size_t g = 0; g < groups; g++)
          for (size_t r = 0; r < KR; r++) {
            const uint8_t *grp = body + g * 2 * NR * KR;
            acc += (int64_t)ai[g * KR + r] * (grp[jj * KR + r] + 128 * grp[(NR + jj) * KR + r]);
          }
        acc -= (int64_t)zv[jj] * rsum + (int64_t)a_zero_point * csum[jj];
        const float v = (float)(int32_t)acc * scale[jj] + bias[jj];
        ci[jj] = fminf(fmaxf(v, params->min), params->max);
      }
    }
    wb += NR * 4 * sizeof(float) + groups * 2 * NR * KR;
  }
}

void ofx_q8_gemm_minmax_ukernel_2x8c4__scalar(size_t mr, size_t nc, size_t kc, const int8_t *a, size_t a_stride,
                                               int32_t a_zero_point, const void *w, float *c, size_t cm_stride,
                                               size_t cn_stride, const ofx_f32_minmax_params *params) {
  q8c4_gemm_mrxnr(2, 8, mr, nc, kc, a, a_stride, a_zero_point, w, c, cm_stride, cn_stride, params);
}

void ofx_q8_gemm_minmax_ukernel_4x4c4__scalar(size_t mr, size_t nc, size_t kc, const int8_t *a, size_t a_stride,
                                               int32_t a_zero_point, const void *w, float *c, size_t cm_stride,
                                               size_t cn_stride, const ofx_f32_minmax_params *params) {
  q8c4_gemm_mrxnr(4, 4, mr, nc, kc, a, a_stride, a_zero_point, w, c, cm_stride, cn_stride, params);
}
