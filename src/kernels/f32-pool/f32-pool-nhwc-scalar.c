/* NHWC pooling, plain loops over the channels of each tap (the reference of the wasmsimd ones). */
#include <float.h>

#include "kernels/f32-pool/f32-pool-nhwc.h"

void ofx_f32_maxpool2d_nhwc__scalar(const ofx_pool2d_params *p, size_t channels, const float *input,
                                    float *output) {
  for (size_t oy = 0; oy < p->out_height; oy++)
    for (size_t ox = 0; ox < p->out_width; ox++) {
      float *out = output + (oy * p->out_width + ox) * channels;
      for (size_t c = 0; c < channels; c++) out[c] = -FLT_MAX;
      size_t count = 0, padded = 0;
#define TAP(in)                                                           \
  for (size_t c = 0; c < channels; c++) {                                 \
    const float v = in[c];                                                \
    if (v > out[c] || v != v) out[c] = v;                                 \
  }
      OFX_POOL_NHWC_FOR_TAPS(p, channels, input, oy, ox, count, padded, TAP);
#undef TAP
      (void)count, (void)padded;
    }
}

void ofx_f32_avgpool2d_nhwc__scalar(const ofx_pool2d_params *p, size_t channels, const float *input,
                                    float *output) {
  for (size_t oy = 0; oy < p->out_height; oy++)
    for (size_t ox = 0; ox < p->out_width; ox++) {
      float *out = output + (oy * p->out_width + ox) * channels;
      for (size_t c = 0; c < channels; c++) out[c] = 0.0f;
      size_t count = 0, padded = 0;
#define TAP(in) \
  for (size_t c = 0; c < channels; c++) out[c] += in[c];
      OFX_POOL_NHWC_FOR_TAPS(p, channels, input, oy, ox, count, padded, TAP);
#undef TAP
      const size_t divisor = p->count_include_pad ? padded : count;
      for (size_t c = 0; c < channels; c++) out[c] = divisor ? out[c] / (float)divisor : 0.0f;
    }
}

void ofx_f32_global_avgpool_nhwc__scalar(size_t pixels, size_t channels, const float *input, float *output) {
  for (size_t c = 0; c < channels; c++) {
    double sum = 0.0;
    for (size_t i = 0; i < pixels; i++) sum += input[i * channels + c];
    output[c] = pixels ? (float)(sum / (double)pixels) : 0.0f;
  }
}
