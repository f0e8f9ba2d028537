/* 25-tap depthwise conv, 4 channels per step: one weight vector load and one input vector
 * load per tap; channel tails (< 4) in scalar so nothing is read past the last channel. */
#if defined(__wasm_simd128__)
#include <stdint.h>
#include <wasm_simd128.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

#define TAPS 25

void ofx_f32_dwconv_minmax_ukernel_25p4c__wasmsimd(size_t taps, size_t channels, size_t output_width,
                                                   const float **input, const float *weights,
                                                   float *output, size_t input_stride,
                                                   size_t output_pixel_stride, size_t input_offset,
                                                   const float *zero,
                                                   const ofx_f32_minmax_params *params) {
  const v128_t vmin = wasm_f32x4_splat(params->min);
  const v128_t vmax = wasm_f32x4_splat(params->max);
  for (size_t x = 0; x < output_width; x++) {
    const float *in[TAPS];
    for (size_t t = 0; t < TAPS; t++) {
      const float *p = input[x * input_stride + t];
      in[t] = p == zero ? zero : (const float *)((uintptr_t)p + input_offset);
    }
    const float *w = weights;
    float *out = output + x * output_pixel_stride;
    size_t c = 0;
    for (; c + 4 <= channels; c += 4) {
      /* two partial sums halve the add chain; summed before the clamp */
      v128_t vacc = wasm_v128_load(w);
      v128_t vacc2 = wasm_f32x4_mul(wasm_v128_load(in[0] + c), wasm_v128_load(w + 4));
      for (size_t t = 1; t < TAPS; t++) {
        const v128_t prod = wasm_f32x4_mul(wasm_v128_load(in[t] + c), wasm_v128_load(w + 4 + 4 * t));
        if (t & 1) vacc = wasm_f32x4_add(vacc, prod); else vacc2 = wasm_f32x4_add(vacc2, prod);
      }
      vacc = wasm_f32x4_add(vacc, vacc2);
      vacc = wasm_f32x4_pmin(wasm_f32x4_pmax(vacc, vmin), vmax);
      wasm_v128_store(out + c, vacc);
      w += 4 * (TAPS + 1);
    }
    for (size_t l = 0; c + l < channels; l++) {
      float acc = w[l];
      for (size_t t = 0; t < TAPS; t++) acc += in[t][c + l] * w[4 + 4 * t + l];
      out[c + l] = ofx_clampf(acc, params->min, params->max);
    }
  }
}
#endif
