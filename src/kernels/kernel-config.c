#include "kernels/kernel-config.h"

#include <stdio.h>

#define OFX_VB(op, arch) \
  .f32_v##op = ofx_f32_v##op##__##arch, .f32_v##op##c = ofx_f32_v##op##c__##arch, \
  .f32_vr##op##c = ofx_f32_vr##op##c__##arch

static const ofx_kernel_config config = {
#if OFX_ARCH_WASMSIMD
#if OFX_ARCH_WASMRELAXEDSIMD
    .arch = "wasmrelaxedsimd",
#else
    .arch = "wasmsimd",
#endif
    /* bench/kernels, registered kernels round-robin on whole layers (V8 on x86-64), loadsplat
     * kernels unrolled 2 K steps: GEMM 4x8 > 6x8 (1x1 256->64 and the ViT Linears through the
     * driver, ~+8%); IGEMM 6x8 > 5x8 ~ 4x8 (3x3 64->64: the per-tap pointer setup is shared by
     * more rows). 12 accumulators + 2 weights + 1 broadcast fit x64's 16 XMM registers. */
    .igemm_mr = 6,
#if OFX_ARCH_WASMRELAXEDSIMD
    /* the relaxed build (clang-16 -mrelaxed-simd): one relaxed multiply-add (an FMA where the
     * engine fuses) in place of each mul+add, which frees the product's register: GEMM 6x8 */
    .gemm_mr = 6,
    .f32_gemm_main = ofx_f32_gemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma,
    .f32_gemm_1x8 = ofx_f32_gemm_minmax_ukernel_1x8__wasmrelaxedsimd_fma,
    .f32_igemm_main = ofx_f32_igemm_minmax_ukernel_6x8__wasmrelaxedsimd_fma,
    .f32_igemm_1x8 = ofx_f32_igemm_minmax_ukernel_1x8__wasmrelaxedsimd_fma,
#else
    .gemm_mr = 4,
    .f32_gemm_main = ofx_f32_gemm_minmax_ukernel_4x8__wasmsimd_loadsplat,
    .f32_gemm_1x8 = ofx_f32_gemm_minmax_ukernel_1x8__wasmsimd_splat,
    .f32_igemm_main = ofx_f32_igemm_minmax_ukernel_6x8__wasmsimd_loadsplat,
    .f32_igemm_1x8 = ofx_f32_igemm_minmax_ukernel_1x8__wasmsimd_splat,
#endif
    /* the any-taps kernel beats the fixed 9-tap one on 3x3: a fully unrolled tap loop keeps
     * 18 pointers live and V8 spills them */
    .dwconv_cr = 8,
#if OFX_ARCH_WASMRELAXEDSIMD
    .f32_dwconv_9 = ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma,
    .f32_dwconv_25 = ofx_f32_dwconv_minmax_ukernel_25p8c__wasmrelaxedsimd_fma,
    .f32_dwconv_any = ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma,
#else
    .f32_dwconv_9 = ofx_f32_dwconv_minmax_ukernel_up8c__wasmsimd,
    .f32_dwconv_25 = ofx_f32_dwconv_minmax_ukernel_25p8c__wasmsimd,
    .f32_dwconv_any = ofx_f32_dwconv_minmax_ukernel_up8c__wasmsimd,
#endif
    OFX_VB(add, wasmsimd_u8), OFX_VB(sub, wasmsimd_u8), OFX_VB(mul, wasmsimd_u8), OFX_VB(div, wasmsimd_u8),
    .f32_vclamp = ofx_f32_vclamp__wasmsimd_u8,
    .f32_vsigmoid = ofx_f32_vsigmoid__wasmsimd_u8,
    .f32_vhardswish = ofx_f32_vhardswish__wasmsimd_u8,
    .f32_vswish = ofx_f32_vswish__wasmsimd_u8,
    .f32_vsqrt = ofx_f32_vsqrt__wasmsimd_u8,
    .f32_vexpminusmax = ofx_f32_vexpminusmax__wasmsimd_u8,
    .f32_verf = ofx_f32_verf__wasmsimd_u8,
    .x32_transpose = ofx_x32_transpose_ukernel_4x4__wasmsimd,
    .f32_rsum = ofx_f32_rsum__wasmsimd_u16,
    .f32_rmax = ofx_f32_rmax__wasmsimd_u16,
    .f32_maxpool2d_nhwc = ofx_f32_maxpool2d_nhwc__wasmsimd,
    .f32_avgpool2d_nhwc = ofx_f32_avgpool2d_nhwc__wasmsimd,
    .f32_global_avgpool_nhwc = ofx_f32_global_avgpool_nhwc__wasmsimd,
    .q8_gemm_mr = 4,
    .q8_gemm_nr = 8,
    .q8_gemm_main = ofx_q8_gemm_minmax_ukernel_4x8c2__wasmsimd_dot16x2,
    .q8_gemm_1x8 = ofx_q8_gemm_minmax_ukernel_1x8c2__wasmsimd_dot16x2,
    .x8_to_s16 = ofx_x8_to_s16__wasmsimd_u16,
    .q8_dwconv = ofx_q8_dwconv_minmax_ukernel_16c__wasmsimd,
    .f32_rminmax = ofx_f32_rminmax__wasmsimd_u16,
    .f32_qu8_vcvt = ofx_f32_qu8_vcvt__wasmsimd_u16,
    .f32_vqdq = ofx_f32_vqdq__wasmsimd_u8,
    .f16_f32_vcvt = ofx_f16_f32_vcvt__wasmsimd_u16,
    .f32_f16_vcvt = ofx_f32_f16_vcvt__wasmsimd_u8,
#else
    .arch = "scalar",
    .gemm_mr = 4,
    .igemm_mr = 4,
    .f32_gemm_main = ofx_f32_gemm_minmax_ukernel_4x8__scalar,
    .f32_gemm_1x8 = ofx_f32_gemm_minmax_ukernel_1x8__scalar,
    .f32_igemm_main = ofx_f32_igemm_minmax_ukernel_4x8__scalar,
    .f32_igemm_1x8 = ofx_f32_igemm_minmax_ukernel_1x8__scalar,
    .dwconv_cr = 1,
    .f32_dwconv_9 = ofx_f32_dwconv_minmax_ukernel_9p1c__scalar,
    .f32_dwconv_25 = ofx_f32_dwconv_minmax_ukernel_25p1c__scalar,
    .f32_dwconv_any = ofx_f32_dwconv_minmax_ukernel_up1c__scalar,
    OFX_VB(add, scalar), OFX_VB(sub, scalar), OFX_VB(mul, scalar), OFX_VB(div, scalar),
    .f32_vclamp = ofx_f32_vclamp__scalar,
    .f32_vsigmoid = ofx_f32_vsigmoid__scalar,
    .f32_vhardswish = ofx_f32_vhardswish__scalar,
    .f32_vswish = ofx_f32_vswish__scalar,
    .f32_vsqrt = ofx_f32_vsqrt__scalar,
    .f32_vexpminusmax = ofx_f32_vexpminusmax__scalar,
    .f32_verf = ofx_f32_verf__scalar,
    .x32_transpose = ofx_x32_transpose_ukernel__scalar,
    .f32_rsum = ofx_f32_rsum__scalar,
    .f32_rmax = ofx_f32_rmax__scalar,
    .f32_maxpool2d_nhwc = ofx_f32_maxpool2d_nhwc__scalar,
    .f32_avgpool2d_nhwc = ofx_f32_avgpool2d_nhwc__scalar,
    .f32_global_avgpool_nhwc = ofx_f32_global_avgpool_nhwc__scalar,
    .q8_gemm_mr = 4,
    .q8_gemm_nr = 8,
    .q8_gemm_main = ofx_q8_gemm_minmax_ukernel_4x8c2__scalar,
    .q8_gemm_1x8 = ofx_q8_gemm_minmax_ukernel_1x8c2__scalar,
    .x8_to_s16 = ofx_x8_to_s16__scalar,
    .q8_dwconv = ofx_q8_dwconv_minmax_ukernel__scalar,
    .f32_rminmax = ofx_f32_rminmax__scalar,
    .f32_qu8_vcvt = ofx_f32_qu8_vcvt__scalar,
    .f32_vqdq = ofx_f32_vqdq__scalar,
    .f16_f32_vcvt = ofx_f16_f32_vcvt__scalar,
    .f32_f16_vcvt = ofx_f32_f16_vcvt__scalar,
#endif
    .gemm_nr = 8,
};

const ofx_kernel_config *ofx_kernels(void) { return &config; }

/* The registered name of a configured kernel: looked up by address in the registries, so the
 * names cannot drift from the table above. */
static const char *gemm_name(ofx_f32_gemm_minmax_ukernel_fn fn) {
#define OFX_GEMM_UKERNEL(arch, uk, mr, nr) if (fn == uk) return #uk;
#include "kernels/f32-gemm/f32-gemm.inc"
#undef OFX_GEMM_UKERNEL
  return "?";
}
static const char *igemm_name(ofx_f32_igemm_minmax_ukernel_fn fn) {
#define OFX_IGEMM_UKERNEL(arch, uk, mr, nr) if (fn == uk) return #uk;
#include "kernels/f32-igemm/f32-igemm.inc"
#undef OFX_IGEMM_UKERNEL
  return "?";
}
static const char *dwconv_name(ofx_f32_dwconv_minmax_ukernel_fn fn) {
#define OFX_DWCONV_UKERNEL(arch, uk, taps, cr) if (fn == uk) return #uk;
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef OFX_DWCONV_UKERNEL
  return "?";
}

int ofx_kernels_describe(char *buf, size_t size) {
  const ofx_kernel_config *k = &config;
  return snprintf(buf, size,
                  "{\"arch\":\"%s\",\"f32_gemm\":\"%s\",\"f32_gemm_1x8\":\"%s\",\"f32_igemm\":\"%s\","
                  "\"f32_igemm_1x8\":\"%s\",\"f32_dwconv_9\":\"%s\",\"f32_dwconv_25\":\"%s\","
                  "\"f32_dwconv_any\":\"%s\"}",
                  k->arch, gemm_name(k->f32_gemm_main), gemm_name(k->f32_gemm_1x8),
                  igemm_name(k->f32_igemm_main), igemm_name(k->f32_igemm_1x8),
                  dwconv_name(k->f32_dwconv_9), dwconv_name(k->f32_dwconv_25),
                  dwconv_name(k->f32_dwconv_any));
}
