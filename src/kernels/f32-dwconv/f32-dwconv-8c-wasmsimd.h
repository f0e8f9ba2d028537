/* Body of the 8-channel wasmsimd depthwise kernels (9p8c, 25p8c and the any-taps up8c), one
 * always-inlined template so the fixed-tap kernels get a constant tap count to unroll on.
 *
 * Two output pixels per step share each weight load: per tap and 8 channels, 2 weight loads
 * and 4 input loads feed 4 mul+add pairs (the one-pixel 4-channel kernels load twice per pair).
 * Channels are taken 8, then 4, then one at a time, so nothing is read past the last channel
 * of an input pixel. Weights: ofx_x32_packw_dwconv_chw with cr = 8.
 *
 * OFX_DW8_MADD(acc, a, b) is acc + a * b per lane: mul then add unless the including file
 * defines it first (the wasmrelaxedsimd_fma kernels: f32x4.relaxed_madd). */
#ifndef OFX_KERNELS_F32_DWCONV_8C_WASMSIMD_H
#define OFX_KERNELS_F32_DWCONV_8C_WASMSIMD_H

#include <stdint.h>
#include <wasm_simd128.h>

#include "kernels/f32-dwconv/f32-dwconv.h"

#ifndef OFX_DW8_MADD
#define OFX_DW8_MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

#define OFX_DW8_MAX_TAPS OFX_DWCONV_MAX_TAPS

static inline __attribute__((always_inline)) const float *ofx_dw8_ptr(const float *p, const float *zero,
                                                                     size_t offset) {
  return p == zero ? zero : (const float *)((uintptr_t)p + offset);
}

/* The channel tail (< 8 channels, starting at c) of one pixel. */
static inline __attribute__((always_inline)) void ofx_dw8_tail(size_t taps, size_t c, size_t channels,
                                                              const float *const *in, const float *w,
                                                              float *out, v128_t vmin, v128_t vmax,
                                                              const ofx_f32_minmax_params *params) {
  size_t l = 0;
  if (c + 4 <= channels) {
    v128_t vacc = wasm_v128_load(w);
    for (size_t t = 0; t < taps; t++)
      vacc = OFX_DW8_MADD(vacc, wasm_v128_load(in[t] + c), wasm_v128_load(w + 8 + 8 * t));
    wasm_v128_store(out + c, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc, vmin), vmax));
    l = 4;
  }
  for (; c + l < channels; l++) {
    float acc = w[l];
    for (size_t t = 0; t < taps; t++) acc += in[t][c + l] * w[8 + 8 * t + l];
    out[c + l] = ofx_clampf(acc, params->min, params->max);
  }
}

static inline __attribute__((always_inline)) void ofx_dw8_body(
    size_t taps, size_t channels, size_t output_width, const float **input, const float *weights,
    float *output, size_t input_stride, size_t output_pixel_stride, size_t input_offset,
    const float *zero, const ofx_f32_minmax_params *params) {
  const v128_t vmin = wasm_f32x4_splat(params->min);
  const v128_t vmax = wasm_f32x4_splat(params->max);
  const float *in0[OFX_DW8_MAX_TAPS], *in1[OFX_DW8_MAX_TAPS];
  size_t x = 0;
  for (; x + 2 <= output_width; x += 2) {
    const float **ind0 = input + x * input_stride, **ind1 = ind0 + input_stride;
    for (size_t t = 0; t < taps; t++) {
      in0[t] = ofx_dw8_ptr(ind0[t], zero, input_offset);
      in1[t] = ofx_dw8_ptr(ind1[t], zero, input_offset);
    }
    float *out0 = output + x * output_pixel_stride, *out1 = out0 + output_pixel_stride;
    const float *w = weights;
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      v128_t vacc0l = wasm_v128_load(w), vacc0h = wasm_v128_load(w + 4);
      v128_t vacc1l = vacc0l, vacc1h = vacc0h;
      const float *wt = w + 8;
      for (size_t t = 0; t < taps; t++) {
        const v128_t vw0 = wasm_v128_load(wt), vw1 = wasm_v128_load(wt + 4);
        wt += 8;
        const float *p0 = in0[t] + c, *p1 = in1[t] + c;
        vacc0l = OFX_DW8_MADD(vacc0l, wasm_v128_load(p0), vw0);
        vacc0h = OFX_DW8_MADD(vacc0h, wasm_v128_load(p0 + 4), vw1);
        vacc1l = OFX_DW8_MADD(vacc1l, wasm_v128_load(p1), vw0);
        vacc1h = OFX_DW8_MADD(vacc1h, wasm_v128_load(p1 + 4), vw1);
      }
      wasm_v128_store(out0 + c, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0l, vmin), vmax));
      wasm_v128_store(out0 + c + 4, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0h, vmin), vmax));
      wasm_v128_store(out1 + c, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc1l, vmin), vmax));
      wasm_v128_store(out1 + c + 4, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc1h, vmin), vmax));
      w += 8 * (taps + 1);
    }
    if (c < channels) {
      ofx_dw8_tail(taps, c, channels, in0, w, out0, vmin, vmax, params);
      ofx_dw8_tail(taps, c, channels, in1, w, out1, vmin, vmax, params);
    }
  }
  if (x < output_width) { /* the odd last pixel */
    const float **ind0 = input + x * input_stride;
    for (size_t t = 0; t < taps; t++) in0[t] = ofx_dw8_ptr(ind0[t], zero, input_offset);
    float *out0 = output + x * output_pixel_stride;
    const float *w = weights;
    size_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      v128_t vacc0l = wasm_v128_load(w), vacc0h = wasm_v128_load(w + 4);
      const float *wt = w + 8;
      for (size_t t = 0; t < taps; t++) {
        const float *p0 = in0[t] + c;
        vacc0l = OFX_DW8_MADD(vacc0l, wasm_v128_load(p0), wasm_v128_load(wt));
        vacc0h = OFX_DW8_MADD(vacc0h, wasm_v128_load(p0 + 4), wasm_v128_load(wt + 4));
        wt += 8;
      }
      wasm_v128_store(out0 + c, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0l, vmin), vmax));
      wasm_v128_store(out0 + c + 4, wasm_f32x4_pmin(wasm_f32x4_pmax(vacc0h, vmin), vmax));
      w += 8 * (taps + 1);
    }
    if (c < channels) ofx_dw8_tail(taps, c, channels, in0, w, out0, vmin, vmax, params);
  }
}

#endif
