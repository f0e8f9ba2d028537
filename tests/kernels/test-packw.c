/* Packed-weight layouts: every element at the position the kernels read it from. */
#include <string.h>

#include "kernel-test.h"
#include "kernels/common.h"
#include "kernels/x32-packw/x32-packw.h"

/* The packers read weights straight from the model bytes, which may sit at any byte offset:
 * a copy of w at an odd address (free with free(ptr - 1)). */
static const char *misaligned_copy(const float *w, size_t count) {
  char *buf = malloc(count * sizeof(float) + 1);
  memcpy(buf + 1, w, count * sizeof(float));
  return buf + 1;
}

/* Packing from the misaligned copy gives the same bytes as from the aligned one. */
#define SAME_FROM_MISALIGNED(ok, size, packed, call)                      \
  do {                                                                    \
    float *p_u = kt_canary_alloc((size) + 4);                             \
    call;                                                                 \
    ok = ok && memcmp(p_u, packed, (size) * sizeof(float)) == 0;          \
    for (size_t i_u = (size); i_u < (size) + 4; i_u++) ok = ok && p_u[i_u] == KT_CANARY; \
    free(p_u);                                                            \
  } while (0)

static void test_gemm_goi_gio(size_t n, size_t k, size_t nr, int with_bias) {
  float *w = malloc(n * k * sizeof(float) + 4), *wt = malloc(n * k * sizeof(float) + 4);
  float *bias = malloc(n * sizeof(float) + 4);
  kt_fill(w, n * k);
  kt_fill(bias, n);
  for (size_t j = 0; j < n; j++)
    for (size_t kk = 0; kk < k; kk++) wt[kk * n + j] = w[j * k + kk];
  const size_t size = ofx_x32_packw_gemm_size(n, k, nr);
  float *p1 = kt_canary_alloc(size + 8), *p2 = kt_canary_alloc(size + 8);
  ofx_x32_packw_gemm_goi(n, k, nr, w, with_bias ? bias : NULL, p1);
  ofx_x32_packw_gemm_gio(n, k, nr, wt, with_bias ? bias : NULL, p2);
  int ok = memcmp(p1, p2, size * sizeof(float)) == 0;
  for (size_t j = 0; j < ofx_round_up(n, nr) && ok; j++) {
    const float *blk = p1 + j / nr * nr * (k + 1);
    const float b = j < n && with_bias ? bias[j] : 0.0f;
    ok = blk[j % nr] == b;
    for (size_t kk = 0; kk < k && ok; kk++)
      ok = blk[nr + kk * nr + j % nr] == (j < n ? w[j * k + kk] : 0.0f);
  }
  for (size_t i = size; i < size + 8; i++) ok = ok && p1[i] == KT_CANARY && p2[i] == KT_CANARY;
  const char *wu = misaligned_copy(w, n * k), *wtu = misaligned_copy(wt, n * k);
  SAME_FROM_MISALIGNED(ok, size, p1, ofx_x32_packw_gemm_goi(n, k, nr, wu, with_bias ? bias : NULL, p_u));
  SAME_FROM_MISALIGNED(ok, size, p1, ofx_x32_packw_gemm_gio(n, k, nr, wtu, with_bias ? bias : NULL, p_u));
  free((char *)wu - 1), free((char *)wtu - 1);
  KT_CHECK_CASE(ok, "packw gemm n=%zu k=%zu nr=%zu bias=%d", n, k, nr, with_bias);
  free(w), free(wt), free(bias), free(p1), free(p2);
}

static void test_conv(size_t cout, size_t cin, size_t kh, size_t kw, size_t nr) {
  const size_t taps = kh * kw, k = taps * cin;
  float *w = malloc(cout * k * sizeof(float)), *bias = malloc(cout * sizeof(float));
  kt_fill(w, cout * k);
  kt_fill(bias, cout);
  const size_t size = ofx_x32_packw_gemm_size(cout, k, nr);
  float *p = kt_canary_alloc(size + 4);
  ofx_x32_packw_conv_oihw(cout, cin, kh, kw, nr, w, bias, p);
  int ok = 1;
  for (size_t o = 0; o < ofx_round_up(cout, nr) && ok; o++) {
    const float *blk = p + o / nr * nr * (k + 1);
    ok = blk[o % nr] == (o < cout ? bias[o] : 0.0f);
    for (size_t ky = 0; ky < kh; ky++)
      for (size_t kx = 0; kx < kw; kx++)
        for (size_t ci = 0; ci < cin; ci++) {
          const size_t kk = (ky * kw + kx) * cin + ci; /* (tap, ci) order */
          const float want = o < cout ? w[((o * cin + ci) * kh + ky) * kw + kx] : 0.0f;
          ok = ok && blk[nr + kk * nr + o % nr] == want;
        }
  }
  for (size_t i = size; i < size + 4; i++) ok = ok && p[i] == KT_CANARY;
  const char *wu = misaligned_copy(w, cout * k);
  SAME_FROM_MISALIGNED(ok, size, p, ofx_x32_packw_conv_oihw(cout, cin, kh, kw, nr, wu, bias, p_u));
  free((char *)wu - 1);
  KT_CHECK_CASE(ok, "packw conv cout=%zu cin=%zu k=%zux%zu nr=%zu", cout, cin, kh, kw, nr);
  free(w), free(bias), free(p);
}

static void test_dwconv(size_t channels, size_t taps, size_t cr) {
  float *w = malloc(channels * taps * sizeof(float)), *bias = malloc(channels * sizeof(float));
  kt_fill(w, channels * taps);
  kt_fill(bias, channels);
  const size_t size = ofx_x32_packw_dwconv_size(channels, taps, cr);
  float *p = kt_canary_alloc(size + 4);
  ofx_x32_packw_dwconv_chw(channels, taps, cr, w, bias, p);
  int ok = 1;
  for (size_t c = 0; c < ofx_round_up(channels, cr) && ok; c++) {
    const float *blk = p + c / cr * cr * (taps + 1);
    ok = blk[c % cr] == (c < channels ? bias[c] : 0.0f);
    for (size_t t = 0; t < taps; t++)
      ok = ok && blk[cr + t * cr + c % cr] == (c < channels ? w[c * taps + t] : 0.0f);
  }
  for (size_t i = size; i < size + 4; i++) ok = ok && p[i] == KT_CANARY;
  const char *wu = misaligned_copy(w, channels * taps);
  SAME_FROM_MISALIGNED(ok, size, p, ofx_x32_packw_dwconv_chw(channels, taps, cr, wu, bias, p_u));
  free((char *)wu - 1);
  KT_CHECK_CASE(ok, "packw dwconv c=%zu taps=%zu cr=%zu", channels, taps, cr);
  free(w), free(bias), free(p);
}

int main(void) {
  kt_seed(1);
  const size_t ns[] = {1, 3, 7, 8, 9, 16, 17, 63};
  const size_t ks[] = {1, 2, 5, 8, 33};
  for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
    for (size_t b = 0; b < sizeof ks / sizeof *ks; b++) {
      test_gemm_goi_gio(ns[a], ks[b], 8, 1);
      test_gemm_goi_gio(ns[a], ks[b], 8, 0);
      test_gemm_goi_gio(ns[a], ks[b], 4, 1);
    }
  test_conv(1, 1, 1, 1, 8);
  test_conv(9, 3, 3, 3, 8);
  test_conv(64, 5, 3, 2, 8);
  test_conv(17, 16, 5, 5, 8);
  test_conv(7, 2, 1, 7, 4);
  for (size_t c = 1; c < 20; c += 3) {
    test_dwconv(c, 9, 1);
    test_dwconv(c, 9, 4);
    test_dwconv(c, 25, 4);
    test_dwconv(c, 25, 8);
  }
  return ofx_test_finish("test-kernels-packw");
}
