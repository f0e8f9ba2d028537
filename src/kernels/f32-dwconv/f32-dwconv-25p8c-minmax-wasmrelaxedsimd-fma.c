/* 25-tap depthwise conv, 8 channels x 2 pixels per step, relaxed multiply-adds (see
 * f32-dwconv-up8c-minmax-wasmrelaxedsimd-fma.c). Relaxed build only. */
#if defined(__wasm_relaxed_simd__)
#include "kernels/wasmrelaxedsimd.h"
#define OFX_DW8_MADD(acc, a, b) ofx_f32x4_relaxed_madd((a), (b), (acc))
#include "kernels/f32-dwconv/f32-dwconv-8c-wasmsimd.h"

void ofx_f32_dwconv_minmax_ukernel_25p8c__wasmrelaxedsimd_fma(size_t taps, size_t channels, size_t output_width,
                                                              const float **input, const float *weights,
                                                              float *output, size_t input_stride,
                                                              size_t output_pixel_stride, size_t input_offset,
                                                              const float *zero,
                                                              const ofx_f32_minmax_params *params) {
  ofx_dw8_body(25, channels, output_width, input, weights, output, input_stride, output_pixel_stride,
               input_offset, zero, params);
}
#endif
