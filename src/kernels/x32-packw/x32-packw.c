#include "kernels/x32-packw/x32-packw.h"

#include <string.h>

#include "kernels/common.h"

size_t ofx_x32_packw_gemm_size(size_t n, size_t k, size_t nr) {
  return ofx_round_up(n, nr) * (k + 1);
}

/* Float i of w, which may be unaligned: memcpy is the defined way (one plain load in wasm). */
static inline float load_at(const char *w, size_t i) {
  float v;
  memcpy(&v, w + i * sizeof v, sizeof v);
  return v;
}

/* nr bias values for the block of channels [j0, j0 + jn), zeros past jn or without bias. */
static float *put_bias(const float *bias, size_t j0, size_t jn, size_t nr, float *packed) {
  for (size_t j = 0; j < nr; j++) *packed++ = (j < jn && bias != NULL) ? bias[j0 + j] : 0.0f;
  return packed;
}

/* Weight (j, kk) is at w[j * j_stride + kk] (k contiguous per channel): nr streams per block. */
static void pack_rows(size_t n, size_t k, size_t nr, const char *w, size_t j_stride,
                      const float *bias, float *packed) {
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t jn = ofx_min_sz(nr, n - j0);
    packed = put_bias(bias, j0, jn, nr, packed);
    for (size_t kk = 0; kk < k; kk++) {
      for (size_t j = 0; j < jn; j++) packed[j] = load_at(w, (j0 + j) * j_stride + kk);
      for (size_t j = jn; j < nr; j++) packed[j] = 0.0f; /* padded channels compute zeros */
      packed += nr;
    }
  }
}

void ofx_x32_packw_gemm_goi(size_t n, size_t k, size_t nr, const void *w, const float *bias,
                            float *packed) {
  pack_rows(n, k, nr, w, k, bias, packed);
}

/* jn floats from w (any alignment) to packed, zeros up to nr. The usual full block has a
 * constant size, so it compiles to plain vector moves instead of a memcpy call. */
static inline void copy_block_row(float *packed, const char *w, size_t jn, size_t nr) {
  if (jn == 8 && nr == 8) {
    memcpy(packed, w, 8 * sizeof(float));
  } else if (jn == 4 && nr == 4) {
    memcpy(packed, w, 4 * sizeof(float));
  } else {
    memcpy(packed, w, jn * sizeof(float));
    for (size_t j = jn; j < nr; j++) packed[j] = 0.0f;
  }
}

/* Rows of w per pass of the transpose in gemm_gio: all blocks take GIO_ROWS rows before the
 * next rows are read, so each block gets GIO_ROWS * nr contiguous floats written at a time and
 * the GIO_ROWS source rows stay cached across the blocks (row by row per block, each 32-byte
 * read would land on a new page of w: a TLB miss per read for ViT's 768 x 3072 matrices). */
#define GIO_ROWS 64

void ofx_x32_packw_gemm_gio(size_t n, size_t k, size_t nr, const void *w, const float *bias,
                            float *packed) {
  const char *src = w;
  const size_t block = (k + 1) * nr; /* floats per block of nr channels */
  for (size_t j0 = 0; j0 < n; j0 += nr)
    put_bias(bias, j0, ofx_min_sz(nr, n - j0), nr, packed + j0 / nr * block);
  for (size_t k0 = 0; k0 < k; k0 += GIO_ROWS) {
    const size_t kn = ofx_min_sz(GIO_ROWS, k - k0);
    for (size_t j0 = 0; j0 < n; j0 += nr) {
      const size_t jn = ofx_min_sz(nr, n - j0);
      float *out = packed + j0 / nr * block + nr + k0 * nr;
      /* row kk of a block is jn consecutive floats of row kk of w */
      for (size_t kk = k0; kk < k0 + kn; kk++, out += nr)
        copy_block_row(out, src + (kk * n + j0) * sizeof(float), jn, nr);
    }
  }
}

void ofx_x32_packw_conv_oihw(size_t cout, size_t cin, size_t kh, size_t kw, size_t nr,
                             const void *w, const float *bias, float *packed) {
  const size_t taps = kh * kw;
  const char *src = w;
  for (size_t j0 = 0; j0 < cout; j0 += nr) {
    const size_t jn = ofx_min_sz(nr, cout - j0);
    packed = put_bias(bias, j0, jn, nr, packed);
    /* K order (tap, ci): OIHW has ci outer and tap inner, so this is a small transpose */
    for (size_t t = 0; t < taps; t++) {
      for (size_t ci = 0; ci < cin; ci++) {
        for (size_t j = 0; j < jn; j++) packed[j] = load_at(src, ((j0 + j) * cin + ci) * taps + t);
        for (size_t j = jn; j < nr; j++) packed[j] = 0.0f;
        packed += nr;
      }
    }
  }
}

size_t ofx_x32_packw_dwconv_size(size_t channels, size_t taps, size_t cr) {
  return ofx_round_up(channels, cr) * (taps + 1);
}

void ofx_x32_packw_dwconv_chw(size_t channels, size_t taps, size_t cr, const void *w,
                              const float *bias, float *packed) {
  pack_rows(channels, taps, cr, w, taps, bias, packed);
}
