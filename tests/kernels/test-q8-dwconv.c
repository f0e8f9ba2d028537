/* The 8-bit depthwise kernel against its scalar reference and the formula itself: channel
 * counts around the 16-channel step, 1 to 25 taps, uint8 and int8 inputs, every kind of zero
 * point, padding taps pointing at a zero-point run, clamps that bite; outputs must be the same
 * bits, and nothing past `channels` may be written. */
#include <stdlib.h>
#include <string.h>

#include "kernel-test.h"
#include "kernels/kernel-config.h"
#include "kernels/q8-dwconv/q8-dwconv.h"

int main(void) {
  kt_seed(23);
  const ofx_kernel_config *k = ofx_kernels();
  for (size_t channels = 1; channels <= 50; channels++)
    for (int rep = 0; rep < 6; rep++) {
      const size_t taps = rep == 0 ? 9 : rep == 1 ? 25 : kt_range(1, 26);
      const bool is_signed = rep % 2 == 1;
      const int32_t zp = is_signed ? (int32_t)kt_range(0, 256) - 128 : (int32_t)kt_range(0, 256);
      uint8_t *image = malloc(taps * channels), *padding = malloc(channels);
      int16_t *w = malloc(taps * channels * sizeof *w);
      float *scale = malloc(channels * sizeof *scale), *bias = malloc(channels * sizeof *bias);
      float *got = kt_canary_alloc(channels + 1), *want = malloc(channels * sizeof *want);
      const uint8_t **x = malloc(taps * sizeof *x);
      for (size_t i = 0; i < taps * channels; i++) image[i] = (uint8_t)kt_u32(), w[i] = (int16_t)((int)kt_range(0, 511) - 255);
      memset(padding, zp, channels);
      for (size_t c = 0; c < channels; c++) scale[c] = 1e-4f * (1.0f + kt_float()), bias[c] = kt_float();
      for (size_t t = 0; t < taps; t++) x[t] = kt_u32() % 5 == 0 ? padding : image + t * channels;
      const float lo = rep == 2 ? -0.5f : -INFINITY, hi = rep == 3 ? 0.5f : INFINITY;
      k->q8_dwconv(channels, taps, x, is_signed, zp, w, scale, bias, got, lo, hi);
      ofx_q8_dwconv_minmax_ukernel__scalar(channels, taps, x, is_signed, zp, w, scale, bias, want, lo, hi);
      bool ok = memcmp(got, want, channels * sizeof *got) == 0 && got[channels] == KT_CANARY;
      for (size_t c = 0; c < channels; c++) { /* the formula, in 64-bit integers */
        int64_t acc = 0;
        for (size_t t = 0; t < taps; t++) acc += ((int64_t)(is_signed ? (int8_t)x[t][c] : x[t][c]) - zp) * w[t * channels + c];
        float f = (float)acc * scale[c] + bias[c];
        f = f < lo ? lo : f > hi ? hi : f;
        ok = ok && want[c] == f;
      }
      KT_CHECK_CASE(ok, "q8_dwconv channels=%zu taps=%zu signed=%d zp=%d", channels, taps, is_signed, zp);
      free(image), free(padding), free(w), free(scale), free(bias), free(got), free(want), free((void *)x);
    }
  return ofx_test_finish("test-kernels-q8-dwconv");
}
