/* Transpose kernels against the definition, with padded strides and canaries; the NCHW <->
 * NHWC helpers round-trip. */
#include <string.h>

#include "kernel-test.h"
#include "kernels/x32-transpose/x32-transpose.h"

typedef struct variant {
  const char *name;
  ofx_x32_transpose_fn fn;
} variant;

static const variant variants[] = {
    {"scalar", ofx_x32_transpose_ukernel__scalar},
#if OFX_ARCH_WASMSIMD
    {"4x4__wasmsimd", ofx_x32_transpose_ukernel_4x4__wasmsimd},
#endif
};

static void run(const variant *v, size_t rows, size_t cols) {
  const size_t in_stride = cols + rows % 3, out_stride = rows + cols % 2;
  uint32_t *in = malloc((rows * in_stride + 1) * sizeof(uint32_t));
  uint32_t *out = malloc((cols * out_stride + 1) * sizeof(uint32_t));
  for (size_t i = 0; i < rows * in_stride; i++) in[i] = kt_u32();
  for (size_t i = 0; i < cols * out_stride; i++) out[i] = 0xDEADBEEFu;
  v->fn(rows, cols, in, in_stride, out, out_stride);
  int ok = 1;
  for (size_t j = 0; j < cols; j++)
    for (size_t i = 0; i < out_stride; i++)
      ok = ok && out[j * out_stride + i] == (i < rows ? in[i * in_stride + j] : 0xDEADBEEFu);
  KT_CHECK_CASE(ok, "transpose %s rows=%zu cols=%zu", v->name, rows, cols);
  free(in), free(out);
}

int main(void) {
  kt_seed(6);
  for (size_t vi = 0; vi < sizeof variants / sizeof *variants; vi++) {
    for (size_t r = 1; r <= 13; r++)
      for (size_t c = 1; c <= 13; c++) run(&variants[vi], r, c);
    run(&variants[vi], 64, 3136);
    run(&variants[vi], 3, 50176);
  }
  const size_t c = 7, hw = 37;
  float *x = malloc(c * hw * sizeof(float)), *t = malloc(c * hw * sizeof(float)), *back = malloc(c * hw * sizeof(float));
  kt_fill(x, c * hw);
  ofx_f32_nchw_to_nhwc(c, hw, x, t);
  CHECK(t[5 * c + 3] == x[3 * hw + 5]); /* pixel 5, channel 3 */
  ofx_f32_nhwc_to_nchw(c, hw, t, back);
  CHECK(memcmp(back, x, c * hw * sizeof(float)) == 0);
  free(x), free(t), free(back);
  return ofx_test_finish("test-kernels-x32-transpose");
}
