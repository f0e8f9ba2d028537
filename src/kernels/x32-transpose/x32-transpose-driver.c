#include "kernels/kernel-config.h"
#include "kernels/x32-transpose/x32-transpose.h"

void ofx_f32_nchw_to_nhwc(size_t channels, size_t pixels, const float *in, float *out) {
  ofx_kernels()->x32_transpose(channels, pixels, (const uint32_t *)in, pixels, (uint32_t *)out,
                               channels);
}

void ofx_f32_nhwc_to_nchw(size_t channels, size_t pixels, const float *in, float *out) {
  ofx_kernels()->x32_transpose(pixels, channels, (const uint32_t *)in, channels, (uint32_t *)out,
                               pixels);
}
