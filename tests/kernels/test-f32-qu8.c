/* The DynamicQuantizeLinear kernels against their scalar references and the ONNX formula:
 * ranges over odd lengths (with NaN inside), quantization with halves (round to even), values
 * past both ends (saturation), NaN (0), every zero point, lengths around the 16-element step. */
#include <string.h>

#include "kernel-test.h"
#include "kernels/f32-qu8/f32-qu8.h"
#include "kernels/kernel-config.h"

static float sample(void) {
  switch (kt_u32() % 8) {
    case 0: return (float)((int)(kt_u32() % 600) - 300) * 0.5f; /* exact halves of the scale 1 */
    case 1: return NAN;
    default: return kt_float() * 40.0f;
  }
}

int main(void) {
  kt_seed(16);
  const ofx_kernel_config *k = ofx_kernels();
  for (size_t n = 1; n < 80; n++)
    for (int rep = 0; rep < 4; rep++) {
      float x[80];
      for (size_t i = 0; i < n; i++) x[i] = sample();
      x[kt_range(0, n)] = rep == 0 ? 1e30f : -1e30f;
      float lo, hi, want_lo, want_hi;
      ofx_f32_rminmax__scalar(n, x, &want_lo, &want_hi);
      k->f32_rminmax(n, x, &lo, &hi);
      float exact_lo = INFINITY, exact_hi = -INFINITY;
      for (size_t i = 0; i < n; i++) exact_lo = x[i] < exact_lo ? x[i] : exact_lo, exact_hi = x[i] > exact_hi ? x[i] : exact_hi;
      KT_CHECK_CASE(lo == want_lo && hi == want_hi && want_lo == exact_lo && want_hi == exact_hi,
                    "rminmax n=%zu: got [%g, %g], want [%g, %g]", n, lo, hi, exact_lo, exact_hi);
      const float scale = rep == 1 ? 1.0f : 0.37f;
      const int32_t zp = (int32_t)kt_range(0, 256);
      uint8_t got[80], want[80];
      k->f32_qu8_vcvt(n, x, scale, zp, got);
      ofx_f32_qu8_vcvt__scalar(n, x, scale, zp, want);
      bool ok = memcmp(got, want, n) == 0;
      for (size_t i = 0; i < n; i++) { /* the ONNX formula itself */
        const float q = nearbyintf(x[i] / scale) + (float)zp;
        const int expect = x[i] != x[i] ? 0 : q < 0 ? 0 : q > 255 ? 255 : (int)q;
        ok = ok && want[i] == expect;
      }
      KT_CHECK_CASE(ok, "qu8_vcvt n=%zu scale=%g zp=%d", n, scale, zp);

      /* the round trip: int8 or uint8 range, with and without a clamp after it */
      const bool is_signed = rep % 2 == 1;
      const float qmin = is_signed ? -128.0f : 0.0f, qmax = is_signed ? 127.0f : 255.0f;
      const int32_t rzp = is_signed ? zp - 128 : zp;
      const float out_lo = rep == 2 ? 0.0f : -INFINITY, out_hi = rep == 2 ? 6.0f : INFINITY;
      float rt[81], rt_want[80];
      rt[n] = 1234.5f;
      k->f32_vqdq(n, x, scale, rzp, qmin, qmax, out_lo, out_hi, rt);
      ofx_f32_vqdq__scalar(n, x, scale, rzp, qmin, qmax, out_lo, out_hi, rt_want);
      bool same = memcmp(rt, rt_want, n * sizeof(float)) == 0 && rt[n] == 1234.5f;
      for (size_t i = 0; i < n; i++) { /* QuantizeLinear then DequantizeLinear, as the ops compute them */
        float q = nearbyintf(x[i] / scale) + (float)rzp;
        q = x[i] != x[i] ? qmin : q < qmin ? qmin : q > qmax ? qmax : q;
        float v = (q - (float)rzp) * scale;
        v = v < out_lo ? out_lo : v > out_hi ? out_hi : v;
        same = same && rt_want[i] == v;
      }
      KT_CHECK_CASE(same, "vqdq n=%zu scale=%g zp=%d signed=%d", n, scale, rzp, is_signed);
    }
  return ofx_test_finish("test-kernels-f32-qu8");
}
