/* 2x8 c4 8-bit GEMM on i32x4.relaxed_dot_i8x16_i7x16_add (q8c4-gemm-wasmrelaxedsimd.h):
 * 8 accumulators (low parts and high bits of 2 rows x 8 columns). */
#if defined(__wasm_relaxed_simd__)
#include "kernels/q8-gemm/q8c4-gemm-wasmrelaxedsimd.h"

void ofx_q8_gemm_minmax_ukernel_2x8c4__wasmrelaxedsimd_dot(size_t mr, size_t nc, size_t kc, const int8_t *a,
                                                             size_t a_stride, int32_t a_zero_point, const void *w,
                                                             float *c, size_t cm_stride, size_t cn_stride,
                                                             const ofx_f32_minmax_params *params) {
  ofx_q8c4_gemm_wasmrelaxedsimd(2, 2, mr, nc, kc, a, a_stride, a_zero_point, w, c, cm_stride, cn_stride, params);
}
#endif
