#include "kernels/f32-reduce/f32-reduce.h"

#include <math.h>

float ofx_f32_rsum__scalar(size_t n, const float *in) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += in[i];
  return (float)sum;
}

float ofx_f32_rmax__scalar(size_t n, const float *in) {
  float max = -INFINITY;
  for (size_t i = 0; i < n; i++) max = in[i] > max ? in[i] : max;
  return max;
}
