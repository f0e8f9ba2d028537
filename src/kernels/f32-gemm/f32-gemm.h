/* Matrix multiplication kernels. */
#ifndef OFX_KERNELS_F32_GEMM_H
#define OFX_KERNELS_F32_GEMM_H

#include <stddef.h>

/* c[i][j] = clamp(bias[j] + sum_k a[i][k] * w[j][k]) for i < m, j < n. Rows of a, w and c are
 * a_stride, w_stride and c_stride floats apart; bias may be NULL. */
void ofx_f32_gemm_nt_minmax__scalar(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                                    const float *w, size_t w_stride, const float *bias, float *c,
                                    size_t c_stride, float output_min, float output_max);

#endif
