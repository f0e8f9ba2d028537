#include <math.h>

#include "kernels/f32-vunary/f32-vunary.h"

void ofx_f32_vclamp__scalar(size_t n, const float *in, float *out, float min, float max) {
  for (size_t i = 0; i < n; i++) {
    float v = in[i];
    v = v < min ? min : v;
    out[i] = v > max ? max : v;
  }
}

/* 1/(1+e^-x) overflows e^-x for very negative x; the mirrored form does not */
static inline float sigmoidf(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

void ofx_f32_vsigmoid__scalar(size_t n, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = sigmoidf(in[i]);
}

void ofx_f32_vswish__scalar(size_t n, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = in[i] * sigmoidf(in[i]);
}

void ofx_f32_vsqrt__scalar(size_t n, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = sqrtf(in[i]);
}

void ofx_f32_vhardswish__scalar(size_t n, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) {
    const float x = in[i];
    out[i] = x * ofx_clampf(x * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f);
  }
}

float ofx_f32_vexpminusmax__scalar(size_t n, const float *in, float max, float *out) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    out[i] = expf(in[i] - max);
    sum += out[i];
  }
  return (float)sum;
}

void ofx_f32_verf__scalar(size_t n, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = erff(in[i]);
}
