/* NHWC pooling, 4 channels per SIMD step (8 for max pool's bulk), the same arithmetic as the
 * scalar references: max keeps NaN (compare-select), average sums in tap order and divides,
 * the global average accumulates in double (f64x2). */
#if defined(__wasm_simd128__)
#include <float.h>
#include <wasm_simd128.h>

#include "kernels/f32-pool/f32-pool-nhwc.h"

static inline v128_t max_nan(v128_t best, v128_t v) {
  const v128_t take = wasm_v128_or(wasm_f32x4_gt(v, best), wasm_f32x4_ne(v, v));
  return wasm_v128_bitselect(v, best, take);
}

void ofx_f32_maxpool2d_nhwc__wasmsimd(const ofx_pool2d_params *p, size_t channels, const float *input,
                                      float *output) {
  const v128_t vlow = wasm_f32x4_splat(-FLT_MAX);
  for (size_t oy = 0; oy < p->out_height; oy++)
    for (size_t ox = 0; ox < p->out_width; ox++) {
      float *out = output + (oy * p->out_width + ox) * channels;
      size_t c = 0;
      for (; c + 4 <= channels; c += 4) wasm_v128_store(out + c, vlow);
      for (; c < channels; c++) out[c] = -FLT_MAX;
      size_t count = 0, padded = 0;
#define TAP(in)                                                                                       \
  {                                                                                                   \
    size_t c_ = 0;                                                                                    \
    for (; c_ + 8 <= channels; c_ += 8) {                                                             \
      wasm_v128_store(out + c_, max_nan(wasm_v128_load(out + c_), wasm_v128_load(in + c_)));          \
      wasm_v128_store(out + c_ + 4, max_nan(wasm_v128_load(out + c_ + 4), wasm_v128_load(in + c_ + 4))); \
    }                                                                                                 \
    for (; c_ + 4 <= channels; c_ += 4)                                                               \
      wasm_v128_store(out + c_, max_nan(wasm_v128_load(out + c_), wasm_v128_load(in + c_)));          \
    for (; c_ < channels; c_++) {                                                                     \
      const float v_ = in[c_];                                                                        \
      if (v_ > out[c_] || v_ != v_) out[c_] = v_;                                                     \
    }                                                                                                 \
  }
      OFX_POOL_NHWC_FOR_TAPS(p, channels, input, oy, ox, count, padded, TAP);
#undef TAP
      (void)count, (void)padded;
    }
}

void ofx_f32_avgpool2d_nhwc__wasmsimd(const ofx_pool2d_params *p, size_t channels, const float *input,
                                      float *output) {
  for (size_t oy = 0; oy < p->out_height; oy++)
    for (size_t ox = 0; ox < p->out_width; ox++) {
      float *out = output + (oy * p->out_width + ox) * channels;
      size_t c = 0;
      for (; c + 4 <= channels; c += 4) wasm_v128_store(out + c, wasm_f32x4_splat(0.0f));
      for (; c < channels; c++) out[c] = 0.0f;
      size_t count = 0, padded = 0;
#define TAP(in)                                                                              \
  {                                                                                          \
    size_t c_ = 0;                                                                           \
    for (; c_ + 4 <= channels; c_ += 4)                                                      \
      wasm_v128_store(out + c_, wasm_f32x4_add(wasm_v128_load(out + c_), wasm_v128_load(in + c_))); \
    for (; c_ < channels; c_++) out[c_] += in[c_];                                           \
  }
      OFX_POOL_NHWC_FOR_TAPS(p, channels, input, oy, ox, count, padded, TAP);
#undef TAP
      const size_t divisor = p->count_include_pad ? padded : count;
      if (divisor == 0) {
        for (c = 0; c < channels; c++) out[c] = 0.0f;
        continue;
      }
      const v128_t vd = wasm_f32x4_splat((float)divisor);
      for (c = 0; c + 4 <= channels; c += 4) wasm_v128_store(out + c, wasm_f32x4_div(wasm_v128_load(out + c), vd));
      for (; c < channels; c++) out[c] = out[c] / (float)divisor;
    }
}

/* 16 channels (a 64-byte line) per pass over the pixels: one pass per 4 channels re-read
 * every cache line 4 times, and 8 independent f64 chains hide the add latency. The per-channel
 * order of the sums is the same as in the 4-channel loop. */
void ofx_f32_global_avgpool_nhwc__wasmsimd(size_t pixels, size_t channels, const float *input, float *output) {
  size_t c = 0;
  if (pixels != 0)
    for (; c + 16 <= channels; c += 16) {
      v128_t acc[8];
      for (int k = 0; k < 8; k++) acc[k] = wasm_f64x2_splat(0.0);
      for (size_t i = 0; i < pixels; i++) {
        const float *row = input + i * channels + c;
        for (int k = 0; k < 4; k++) {
          const v128_t v = wasm_v128_load(row + 4 * k);
          acc[2 * k] = wasm_f64x2_add(acc[2 * k], wasm_f64x2_promote_low_f32x4(v));
          acc[2 * k + 1] = wasm_f64x2_add(acc[2 * k + 1], wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 1)));
        }
      }
      const v128_t vn = wasm_f64x2_splat((double)pixels);
      for (int k = 0; k < 4; k++) {
        const v128_t lo = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_div(acc[2 * k], vn));
        const v128_t hi = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_div(acc[2 * k + 1], vn));
        wasm_v128_store(output + c + 4 * k, wasm_i64x2_shuffle(lo, hi, 0, 2));
      }
    }
  for (; c + 4 <= channels; c += 4) {
    v128_t lo = wasm_f64x2_splat(0.0), hi = lo;
    for (size_t i = 0; i < pixels; i++) {
      const v128_t v = wasm_v128_load(input + i * channels + c);
      lo = wasm_f64x2_add(lo, wasm_f64x2_promote_low_f32x4(v));
      hi = wasm_f64x2_add(hi, wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 1)));
    }
    if (pixels == 0) {
      wasm_v128_store(output + c, wasm_f32x4_splat(0.0f));
      continue;
    }
    const v128_t vn = wasm_f64x2_splat((double)pixels);
    lo = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_div(lo, vn));
    hi = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_div(hi, vn));
    wasm_v128_store(output + c, wasm_i64x2_shuffle(lo, hi, 0, 2));
  }
  for (; c < channels; c++) {
    double sum = 0.0;
    for (size_t i = 0; i < pixels; i++) sum += input[i * channels + c];
    output[c] = pixels ? (float)(sum / (double)pixels) : 0.0f;
  }
}
#endif
