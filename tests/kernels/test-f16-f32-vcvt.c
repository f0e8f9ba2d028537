/* float16 -> float32 widening against the scalar reference: all 65536 half bit patterns (both
 * signs, subnormals, infinities, NaN) at every alignment of the 16-, 4- and 1-element steps;
 * the narrowing used at packing round-tripping every finite half exactly, rounding ties to
 * even, and the build's narrowing kernel giving the scalar one's bits on ties, near-ties,
 * overflow, subnormals and random floats. */
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
  /* the build's narrowing against the scalar one: every half, the midpoints between neighbours
   * (ties, both parities), points just off them, random floats of every exponent, overflow */
  enum { M = 8 * N + 64 };
  float *x = malloc(M * sizeof *x);
  uint16_t *narrow = malloc(M * sizeof *narrow), *narrow_want = malloc(M * sizeof *narrow_want);
  size_t m = 0;
  for (uint32_t i = 0; i < N; i++) {
    const float a = want[i], b = i + 1 < N ? want[i + 1] : a;
    x[m++] = a;
    x[m++] = (a + b) / 2;                      /* exact: the midpoint fits float32 */
    x[m++] = nextafterf((a + b) / 2, INFINITY);
    x[m++] = nextafterf((a + b) / 2, -INFINITY);
  }
  const float special[] = {65504.0f, 65519.99f, 65520.0f, 1e9f, -1e9f, 0x1.0p-25f, 0x1.8p-25f, 0x1.0p-26f, 1e-30f, -0.0f};
  for (size_t i = 0; i < sizeof special / sizeof *special; i++) x[m++] = special[i];
  while (m < M) {
    uint32_t bits = kt_u32() << 1 ^ kt_u32();
    memcpy(&x[m++], &bits, sizeof bits);
  }
  for (size_t shift = 0; shift < 9; shift++) {
    const size_t len = M - 16 - shift;
    narrow[shift + len] = 0x5555;
    k->f32_f16_vcvt(len, x + shift, narrow + shift);
    ofx_f32_f16_vcvt__scalar(len, x + shift, narrow_want + shift);
    size_t wrong = len;
    for (size_t i = 0; i < len && wrong == len; i++) {
      const uint16_t g = narrow[shift + i], w = narrow_want[shift + i];
      const int g_nan = (g & 0x7c00) == 0x7c00 && (g & 0x3ff), w_nan = (w & 0x7c00) == 0x7c00 && (w & 0x3ff);
      if (w_nan ? !g_nan || (g & 0x8000) != (w & 0x8000) : g != w) wrong = i;
    }
    KT_CHECK_CASE(wrong == len, "narrow %a (shift %zu): got 0x%04x, want 0x%04x", x[shift + wrong % len], shift,
                  narrow[shift + wrong % len], narrow_want[shift + wrong % len]);
    KT_CHECK_CASE(narrow[shift + len] == 0x5555, "narrow wrote past n=%zu", len);
  }
  free(x), free(narrow), free(narrow_want);
  free(h), free(got), free(want), free(back);
  return ofx_test_finish("test-kernels-f16-f32-vcvt");
}
