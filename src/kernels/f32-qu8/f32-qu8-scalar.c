#include <math.h>

#include "kernels/f32-qu8/f32-qu8.h"

void ofx_f32_rminmax__scalar(size_t n, const float *x, float *lo, float *hi) {
  float mn = INFINITY, mx = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    mn = x[i] < mn ? x[i] : mn; /* false for NaN */
    mx = x[i] > mx ? x[i] : mx;
  }
  *lo = mn, *hi = mx;
}

void ofx_f32_qu8_vcvt__scalar(size_t n, const float *x, float scale, int32_t zero_point, uint8_t *y) {
  for (size_t i = 0; i < n; i++) {
    const float q = nearbyintf(x[i] / scale) + (float)zero_point;
    y[i] = q >= 255.0f ? 255 : q > 0.0f ? (uint8_t)q : 0; /* NaN: 0 */
  }
}

void ofx_f32_vqdq__scalar(size_t n, const float *x, float scale, int32_t zero_point, float qmin, float qmax, float out_min,
                          float out_max, float *y) {
  const float zp = (float)zero_point;
  for (size_t i = 0; i < n; i++) {
    float q = nearbyintf(x[i] / scale) + zp;
    q = q >= qmin ? (q <= qmax ? q : qmax) : qmin; /* NaN: qmin */
    const float v = (q - zp) * scale;
    y[i] = v < out_min ? out_min : v > out_max ? out_max : v;
  }
}
