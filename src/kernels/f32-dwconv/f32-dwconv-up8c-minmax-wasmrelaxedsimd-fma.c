/* Depthwise conv with any tap count up to OFX_DW8_MAX_TAPS, 8 channels x 2 pixels per step: the
 * up8c wasmsimd kernel's body (f32-dwconv-8c-wasmsimd.h) with each mul+add one relaxed
 * multiply-add (f32x4.relaxed_madd: rounded once where the engine fuses). Relaxed build only. */
#if defined(__wasm_relaxed_simd__)
#include "kernels/wasmrelaxedsimd.h"
#define OFX_DW8_MADD(acc, a, b) ofx_f32x4_relaxed_madd((a), (b), (acc))
#include "kernels/f32-dwconv/f32-dwconv-8c-wasmsimd.h"

void ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma(size_t taps, size_t channels, size_t output_width,
                                                             const float **input, const float *weights,
                                                             float *output, size_t input_stride,
                                                             size_t output_pixel_stride, size_t input_offset,
                                                             const float *zero,
                                                             const ofx_f32_minmax_params *params) {
  if (taps == 49) /* ConvNeXt's 7x7: a constant trip count for the tap loop */
    ofx_dw8_body(49, channels, output_width, input, weights, output, input_stride, output_pixel_stride,
                 input_offset, zero, params);
  else
    ofx_dw8_body(taps, channels, output_width, input, weights, output, input_stride, output_pixel_stride,
                 input_offset, zero, params);
}
#endif
