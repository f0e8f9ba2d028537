#include "kernels/x32-packw/x32-packw.h"

#include <string.h>

#include "kernels/common.h"

size_t ofx_x32_packw_gemm_size(size_t n, size_t k, size_t nr) {
  return ofx_round_up(n, nr) * (k + 1);
}

/* One generic packer: weight (j, kk) is at w[j * j_stride + kk * k_stride]. */
static void pack_strided(size_t n, size_t k, size_t nr, const float *w, size_t j_stride,
                         size_t k_stride, const float *bias, float *packed) {
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t jn = ofx_min_sz(nr, n - j0);
    for (size_t j = 0; j < nr; j++) *packed++ = (j < jn && bias != NULL) ? bias[j0 + j] : 0.0f;
    for (size_t kk = 0; kk < k; kk++) {
      for (size_t j = 0; j < jn; j++) packed[j] = w[(j0 + j) * j_stride + kk * k_stride];
      for (size_t j = jn; j < nr; j++) packed[j] = 0.0f; /* padded channels compute zeros */
      packed += nr;
    }
  }
}

void ofx_x32_packw_gemm_goi(size_t n, size_t k, size_t nr, const float *w, const float *bias,
                            float *packed) {
  pack_strided(n, k, nr, w, k, 1, bias, packed);
}

void ofx_x32_packw_gemm_gio(size_t n, size_t k, size_t nr, const float *w, const float *bias,
                            float *packed) {
  pack_strided(n, k, nr, w, 1, n, bias, packed);
}

void ofx_x32_packw_conv_oihw(size_t cout, size_t cin, size_t kh, size_t kw, size_t nr,
                             const float *w, const float *bias, float *packed) {
  const size_t taps = kh * kw;
  for (size_t j0 = 0; j0 < cout; j0 += nr) {
    const size_t jn = ofx_min_sz(nr, cout - j0);
    for (size_t j = 0; j < nr; j++) *packed++ = (j < jn && bias != NULL) ? bias[j0 + j] : 0.0f;
    /* K order (tap, ci): OIHW has ci outer and tap inner, so this is a small transpose */
    for (size_t t = 0; t < taps; t++) {
      for (size_t ci = 0; ci < cin; ci++) {
        for (size_t j = 0; j < jn; j++) packed[j] = w[((j0 + j) * cin + ci) * taps + t];
        for (size_t j = jn; j < nr; j++) packed[j] = 0.0f;
        packed += nr;
      }
    }
  }
}

size_t ofx_x32_packw_dwconv_size(size_t channels, size_t taps, size_t cr) {
  return ofx_round_up(channels, cr) * (taps + 1);
}

void ofx_x32_packw_dwconv_chw(size_t channels, size_t taps, size_t cr, const float *w,
                              const float *bias, float *packed) {
  pack_strided(channels, taps, cr, w, taps, 1, bias, packed);
}
