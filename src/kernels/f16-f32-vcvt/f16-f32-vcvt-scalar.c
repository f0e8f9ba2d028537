#include "base/half.h"
#include "kernels/f16-f32-vcvt/f16-f32-vcvt.h"

void ofx_f16_f32_vcvt__scalar(size_t n, const uint16_t *x, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = ofx_f16_to_f32(x[i]);
}

void ofx_f32_f16_vcvt__scalar(size_t n, const float *x, uint16_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = ofx_f32_to_f16(x[i]);
}
