/* The production kernel of each family for this build: wasmsimd variants when compiled with
 * -msimd128 (__wasm_simd128__), the scalar references otherwise. Ops call through this table
 * (ofx_kernels()->f32_gemm_main(...)) and never #ifdef on the target. */
#ifndef OFX_KERNELS_KERNEL_CONFIG_H
#define OFX_KERNELS_KERNEL_CONFIG_H

#include "kernels/f16-f32-vcvt/f16-f32-vcvt.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/f32-vbinary/f32-vbinary.h"
#include "kernels/f32-vunary/f32-vunary.h"
#include "kernels/f32-qu8/f32-qu8.h"
#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/x32-transpose/x32-transpose.h"

typedef struct ofx_kernel_config {
  const char *arch; /* "wasmrelaxedsimd" (the relaxed build), "wasmsimd" or "scalar" */
  /* GEMM / IGEMM: the main kernels are gemm_mr x gemm_nr and igemm_mr x gemm_nr; weights packed
   * with nr = gemm_nr; IGEMM indirection built with mr = igemm_mr (or 1 for the 1x8 kernel). */
  size_t gemm_mr, gemm_nr, igemm_mr;
  ofx_f32_gemm_minmax_ukernel_fn f32_gemm_main, f32_gemm_1x8;
  ofx_f32_igemm_minmax_ukernel_fn f32_igemm_main, f32_igemm_1x8;
  /* depthwise 3x3 (9 taps), 5x5 (25 taps) and any other tap count (<= OFX_DWCONV_MAX_TAPS);
   * weights packed with cr = dwconv_cr */
  size_t dwconv_cr;
  ofx_f32_dwconv_minmax_ukernel_fn f32_dwconv_9, f32_dwconv_25, f32_dwconv_any;
  /* elementwise: vv = a[i] OP b[i], vc = a[i] OP b[0], rvc = a[0] OP b[i] */
  ofx_f32_vbinary_fn f32_vadd, f32_vaddc, f32_vraddc, f32_vsub, f32_vsubc, f32_vrsubc;
  ofx_f32_vbinary_fn f32_vmul, f32_vmulc, f32_vrmulc, f32_vdiv, f32_vdivc, f32_vrdivc;
  ofx_f32_vclamp_fn f32_vclamp;
  ofx_f32_vunary_fn f32_vsigmoid, f32_vhardswish, f32_vswish, f32_vsqrt;
  ofx_f32_vexpminusmax_fn f32_vexpminusmax; /* softmax rows */
  ofx_f32_vunary_fn f32_verf;
  ofx_x32_transpose_fn x32_transpose;
  /* one contiguous row: ReduceMean/ReduceSum over trailing axes, softmax row max */
  ofx_f32_rsum_fn f32_rsum;
  ofx_f32_rmax_fn f32_rmax;
  /* NHWC pooling, one image per call */
  ofx_f32_pool2d_nhwc_fn f32_maxpool2d_nhwc, f32_avgpool2d_nhwc;
  ofx_f32_global_avgpool_nhwc_fn f32_global_avgpool_nhwc;
  /* 8-bit GEMM (q8-gemm.h): q8_gemm_mr x q8_gemm_nr main kernel, weights packed with q8_gemm_nr;
   * activations widened by x8_to_s16 */
  size_t q8_gemm_mr, q8_gemm_nr;
  ofx_q8_gemm_minmax_ukernel_fn q8_gemm_main, q8_gemm_1x8;
  ofx_x8_to_s16_fn x8_to_s16;
  /* 8-bit depthwise convolution, one output pixel per call (q8-dwconv.h) */
  ofx_q8_dwconv_minmax_ukernel_fn q8_dwconv;
  /* DynamicQuantizeLinear: a tensor's range, then float32 to uint8 */
  ofx_f32_rminmax_fn f32_rminmax;
  ofx_f32_qu8_vcvt_fn f32_qu8_vcvt;
  ofx_f32_vqdq_fn f32_vqdq; /* QDQ round trips fused after 8-bit layers */
  /* float16 weight storage: packed weights widened before the float32 GEMM reads them */
  ofx_f16_f32_vcvt_fn f16_f32_vcvt;
  ofx_f32_f16_vcvt_fn f32_f16_vcvt; /* and narrowed when packed */
} ofx_kernel_config;

/* Static, immutable, thread-safe. */
const ofx_kernel_config *ofx_kernels(void);

/* What this build runs, as one JSON object: {"arch": ..., "f32_gemm": <registered name of
 * f32_gemm_main>, "f32_gemm_1x8", "f32_igemm", "f32_igemm_1x8", "f32_dwconv_9",
 * "f32_dwconv_25", "f32_dwconv_any"} (model.backend.kernels and explain() in the JS package).
 * snprintf's contract: writes at most size bytes, returns the length it needed. */
int ofx_kernels_describe(char *buf, size_t size);

#endif
