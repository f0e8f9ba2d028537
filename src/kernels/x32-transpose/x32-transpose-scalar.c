#include "kernels/x32-transpose/x32-transpose.h"

/* 8x8 blocks keep both the read and the write side within a few cache lines */
void ofx_x32_transpose_ukernel__scalar(size_t rows, size_t cols, const uint32_t *in,
                                       size_t in_stride, uint32_t *out, size_t out_stride) {
  for (size_t i0 = 0; i0 < rows; i0 += 8) {
    const size_t i1 = ofx_min_sz(i0 + 8, rows);
    for (size_t j0 = 0; j0 < cols; j0 += 8) {
      const size_t j1 = ofx_min_sz(j0 + 8, cols);
      for (size_t i = i0; i < i1; i++)
        for (size_t j = j0; j < j1; j++) out[j * out_stride + i] = in[i * in_stride + j];
    }
  }
}
