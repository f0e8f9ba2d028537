/* Matrix multiplication kernels. */
#ifndef OFX_KERNELS_F32_GEMM_H
#define OFX_KERNELS_F32_GEMM_H

#include <stddef.h>

#include "kernels/common.h"
#include "kernels/f32-vunary/f32-vunary.h"

typedef struct ofx_threadpool ofx_threadpool;

/* c[i][j] = clamp(bias[j] + sum_k a[i][k] * w[j][k]) for i < m, j < n. Rows of a, w and c are
 * a_stride, w_stride and c_stride floats apart; bias may be NULL. Unpacked reference. */
void ofx_f32_gemm_nt_minmax__scalar(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                                    const float *w, size_t w_stride, const float *bias, float *c,
                                    size_t c_stride, float output_min, float output_max);

/* GEMM micro-kernel contract (all sizes and strides in floats):
 *   for i < mr (1..MR), j < nc:
 *     c[i*cm_stride + (j/NR)*cn_stride + j%NR] = clamp(bias[j] + sum_{kk<kc} a[i*a_stride+kk] * W[kk][j])
 * w is packed by ofx_x32_packw_gemm_* with nr = NR (bias first per block of NR columns); the
 * kernel walks all ceil(nc/NR) blocks. cn_stride is normally NR. Rows >= mr are not touched. */
typedef void (*ofx_f32_gemm_minmax_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float *a,
                                                size_t a_stride, const float *w, float *c,
                                                size_t cm_stride, size_t cn_stride,
                                                const ofx_f32_minmax_params *params);

#define OFX_GEMM_UKERNEL(arch, ukernel, mr, nr)                                                 \
  void ukernel(size_t mr_, size_t nc, size_t kc, const float *a, size_t a_stride, const float *w, \
               float *c, size_t cm_stride, size_t cn_stride, const ofx_f32_minmax_params *params);
#include "kernels/f32-gemm/f32-gemm.inc"
#undef OFX_GEMM_UKERNEL

/* The GEMM every op calls: c[m][n] = clamp(a[m][k] · W + bias) with W packed by
 * ofx_x32_packw_gemm_* (nr = ofx_kernels()->gemm_nr). Tiles M×N over the configured
 * micro-kernels and, when pool is not NULL, over the pool's threads. */
void ofx_f32_gemm(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                  const float *packed_w, float *c, size_t c_stride, float output_min,
                  float output_max, ofx_threadpool *pool);
/* The same, then post(c) in place on each output tile as soon as it is computed (a Conv's
 * fused activation; NULL: none). */
void ofx_f32_gemm_post(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                       const float *packed_w, float *c, size_t c_stride, float output_min,
                       float output_max, ofx_f32_vunary_fn post, ofx_threadpool *pool);

#endif
