#include "kernels/x8-transpose/x8-transpose.h"

/* Blocks of 16 x 16 keep both sides' lines in cache; quantized activations are a quarter of the
 * float ones' bytes, so a scalar loop is cheap next to the GEMM that follows. */
void ofx_x8_transpose__scalar(size_t rows, size_t cols, const uint8_t *in, size_t in_stride, uint8_t *out, size_t out_stride) {
  for (size_t i0 = 0; i0 < rows; i0 += 16)
    for (size_t j0 = 0; j0 < cols; j0 += 16) {
      const size_t i1 = i0 + 16 < rows ? i0 + 16 : rows, j1 = j0 + 16 < cols ? j0 + 16 : cols;
      for (size_t i = i0; i < i1; i++)
        for (size_t j = j0; j < j1; j++) out[j * out_stride + i] = in[i * in_stride + j];
    }
}
