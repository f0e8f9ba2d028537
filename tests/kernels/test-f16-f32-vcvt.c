/* float16 -> float32 widening against the scalar reference: all 65536 half bit patterns (both
 * signs, subnormals, infinities, NaN) at every alignment of the 16-, 4- and 1-element steps,
 * and the narrowing used at packing round-tripping every finite half exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-test.h"
#include "kernels/f16-f32-vcvt/f16-f32-vcvt.h"
#include "kernels/kernel-config.h"

int main(void) {
  const ofx_kernel_config *k = ofx_kernels();
  enum { N = 65536 };
  uint16_t *h = malloc((N + 64) * sizeof *h);
  float *got = malloc((N + 64) * sizeof *got), *want = malloc((N + 64) * sizeof *want);
  uint16_t *back = malloc((N + 64) * sizeof *back);
  for (size_t i = 0; i < N + 64; i++) h[i] = (uint16_t)(i * 40503u); /* every pattern, shuffled */
  for (size_t shift = 0; shift < 20; shift++) {
    const size_t n = N - shift * 3; /* tails of every length */
    for (size_t i = 0; i < n + 8; i++) got[shift + i] = 7.0f;
    k->f16_f32_vcvt(n, h + shift, got + shift);
    ofx_f16_f32_vcvt__scalar(n, h + shift, want + shift);
    size_t bad = n; /* the first mismatch, reported once per shift */
    for (size_t i = 0; i < n && bad == n; i++) {
      const float g = got[shift + i], w = want[shift + i];
      if (isnan(w) ? !isnan(g) : memcmp(&g, &w, sizeof g) != 0) bad = i;
    }
    KT_CHECK_CASE(bad == n, "half 0x%04x (shift %zu): got %a, want %a", h[shift + bad], shift, got[shift + bad],
                  want[shift + bad]);
    KT_CHECK_CASE(got[shift + n] == 7.0f, "wrote past n=%zu", n);
  }
  /* narrowing: finite halves come back bit for bit; halfway cases round to even */
  ofx_f32_f16_vcvt__scalar(N, want, back);
  size_t bad = N;
  for (size_t i = 0; i < N && bad == N; i++)
    if (!isnan(want[i]) && back[i] != h[i]) bad = i;
  KT_CHECK_CASE(bad == N, "half 0x%04x: narrowed back to 0x%04x", h[bad % N], back[bad % N]);
  const float ties[2] = {1.0f + 0x1.0p-11f, 1.0f + 3 * 0x1.0p-11f}; /* between 1 and its next half, and the next */
  uint16_t t[2];
  ofx_f32_f16_vcvt__scalar(2, ties, t);
  KT_CHECK_CASE(t[0] == 0x3c00 && t[1] == 0x3c02, "ties to even: got 0x%04x 0x%04x", t[0], t[1]);
  free(h), free(got), free(want), free(back);
  return ofx_test_finish("test-kernels-f16-f32-vcvt");
}
